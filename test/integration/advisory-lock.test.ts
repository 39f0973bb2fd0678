/**
 * tryAdvisoryLock holds its lock on a session of its own: lock holders never park the pool's
 * connections, so work under many locks still gets the pool (the deadlock 200 provisionings at
 * parallelism 4 hit against a central pool of 10, when each lock held a pooled connection).
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tryAdvisoryLock } from '../../src/infra/advisory-lock.js';

const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
afterAll(() => pool.end());

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
  });
});
