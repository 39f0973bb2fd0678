/**
 * tryAdvisoryLock holds its lock on a session of its own: lock holders never park the pool's
 * connections, so work under many locks still gets the pool (the deadlock 200 provisionings at
 * parallelism 4 hit against a central pool of 10, when each lock held a pooled connection).
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { closeLockSessions, takeOwnership, tryAdvisoryLock, waitForAdvisoryLock } from '../../src/infra/advisory-lock.js';
import { until } from '../helpers/until.js';

const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
afterAll(async () => {
  await closeLockSessions(pool);
  await pool.end();
});

/** Whether a session that is not tryAdvisoryLock's could take `key` now (lock sessions are reused, and a session's own locks stack). */
async function freeForOthers(key: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    return rows[0]!.locked;
  } finally {
    await client.end();
  }
}

describe('tryAdvisoryLock', () => {
  it('holds more locks than the pool has connections, and the pool still serves the locked work', async () => {
    const keys = Array.from({ length: 3 }, () => `test:lock:${randomUUID()}`);
    const releases = await Promise.all(keys.map((key) => tryAdvisoryLock(pool, key)));
    expect(releases.every((release) => release !== undefined)).toBe(true);
    const answered = await Promise.race([pool.query('SELECT 1 AS one'), new Promise((resolve) => setTimeout(() => resolve('timed out'), 5000))]);
    expect(answered).not.toBe('timed out');

    // Taken is taken, by any session; released is free again.
    expect(await tryAdvisoryLock(pool, keys[0]!)).toBeUndefined();
    await releases[0]!();
    const again = await tryAdvisoryLock(pool, keys[0]!);
    expect(again).toBeDefined();
    await again!();
    for (const release of releases.slice(1)) await release!();
    for (const key of keys) expect(await freeForOthers(key)).toBe(true);
  });

  it('reuses its sessions, each handed out again without the lock it held', async () => {
    const key = `test:lock:${randomUUID()}`;
    const pids = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const release = await tryAdvisoryLock(pool, key);
      expect(release).toBeDefined();
      const holders = await pool.query<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext($1)::oid::bigint AND granted", [key]);
      for (const row of holders.rows) pids.add(row.pid);
      await release!();
      expect(await freeForOthers(key)).toBe(true);
    }
    expect(pids.size).toBe(1);
  });
});

describe('waitForAdvisoryLock', () => {
  it('waits for the holder to let go, and gives up after its timeout', async () => {
    const key = `test:lock:${randomUUID()}`;
    const holder = await tryAdvisoryLock(pool, key);
    expect(holder).toBeDefined();

    const started = performance.now();
    expect(await waitForAdvisoryLock(pool, key, 200)).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);

    const waiting = waitForAdvisoryLock(pool, key, 5_000);
    setTimeout(() => void holder!(), 300);
    const taken = await waiting;
    expect(taken).toBeDefined();
    expect(await taken!.held()).toBe(true);
    expect(await freeForOthers(key)).toBe(false);
    await taken!();
    expect(await freeForOthers(key)).toBe(true);
  });
});

describe('takeOwnership', () => {
  it('is refused while another session owns the work, waits for a previous owner still at work, and lets go of both locks', async () => {
    const owner = `test:owner:${randomUUID()}`;
    const work = `test:work:${randomUUID()}`;
    const first = await takeOwnership(pool, owner, work, 200);
    expect(typeof first).toBe('function');
    // Whatever fails below, the sessions go back, so afterAll's closeLockSessions does not wait for them.
    onTestFinished(async () => {
      if (typeof first !== 'string') await first();
    });
    expect(await takeOwnership(pool, owner, work, 200)).toBe('owned');

    // The first owner's session ends alone (its lock with it); its work lock is still held: a new owner waits, then gives up.
    const ownerSession = await pool.query<{ pid: number }>(
      "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objid = hashtext($1)::oid::bigint",
      [owner],
    );
    await pool.query('SELECT pg_terminate_backend($1)', [ownerSession.rows[0]!.pid]);
    // pg_terminate_backend only signals: the lock goes once that backend has exited.
    await until('the owner session gone', async () => ((await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [ownerSession.rows[0]!.pid])).rowCount === 0 ? true : undefined));
    expect(await takeOwnership(pool, owner, work, 200)).toBe('finishing');
    expect(await freeForOthers(owner)).toBe(true); // the refused one kept nothing

    await (first as Exclude<typeof first, string>)(); // the first owner stops: its work lock goes
    const second = await takeOwnership(pool, owner, work, 200);
    expect(typeof second).toBe('function');
    const held = second as Exclude<typeof second, string>;
    expect(await held.held()).toBe(true);
    await held();
    expect(await held.held()).toBe(false);
    expect(await freeForOthers(owner)).toBe(true);
    expect(await freeForOthers(work)).toBe(true);
  });
});
