import pg, { type Pool, type PoolClient } from 'pg';

/**
 * Runs `fn` while holding a session-level PostgreSQL advisory lock named `key`, on a connection
 * of `pool` that `fn` may use too. Another process asking for the same key waits. The lock is
 * released on the way out; if the session died meanwhile, its lock died with it and the
 * connection is discarded rather than returned to the pool.
 */
export async function withAdvisoryLock<T>(pool: Pool, key: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => {
        broken = true;
      });
    }
  } finally {
    client.release(broken);
  }
}

/**
 * Takes the session-level advisory lock `key` without waiting, on a connection of its own held
 * until the returned release is called. Undefined when another session holds it. If the process
 * dies, PostgreSQL ends the session and the lock with it.
 *
 * The session is never one of `pool`'s connections: the locked work needs the pool itself, and
 * with one pooled connection parked per lock, as many concurrent lock holders as the pool has
 * connections would wait on each other forever (found with 200 provisionings at parallelism 4
 * against a central pool of 10). Lock sessions come from a second pool with `pool`'s settings,
 * sized for every holder at once, whose connections are reused: opening one per lock was a
 * connection start (~6 ms here) on every provisioning. `closeLockSessions` ends it.
 */
/** Ends a lock taken with tryAdvisoryLock; `held()` answers whether its session (hence the lock) is still alive. */
export type HeldLock = (() => Promise<void>) & { held(): Promise<boolean> };

export async function tryAdvisoryLock(pool: Pool, key: string): Promise<HeldLock | undefined> {
  const client = await lockSessionsOf(pool).connect();
  let locked = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    locked = rows[0]?.locked === true;
  } catch (error) {
    client.release(true);
    throw error;
  }
  if (!locked) {
    client.release();
    return undefined;
  }
  return heldOn(client, key);
}

/**
 * Like tryAdvisoryLock, but waits up to `timeoutMs` for another session to let go of `key`.
 * Undefined when it did not within that time.
 */
export async function waitForAdvisoryLock(pool: Pool, key: string, timeoutMs: number): Promise<HeldLock | undefined> {
  const client = await lockSessionsOf(pool).connect();
  try {
    // Local to a transaction, so the reused session keeps no timeout; the session-level lock outlives the transaction.
    await client.query('BEGIN');
    await client.query("SELECT set_config('lock_timeout', $1, true)", [`${Math.max(1, Math.round(timeoutMs))}ms`]);
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    await client.query('COMMIT');
  } catch (error) {
    const timedOut = (error as { code?: string }).code === '55P03'; // lock_not_available
    const clean = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    // Reused only when it certainly holds nothing: the wait ran out and the transaction ended.
    client.release(!(clean && timedOut));
    if (timedOut) return undefined;
    throw error;
  }
  return heldOn(client, key);
}

/** How long a new owner waits for the previous owner's work to end (see takeOwnership). */
export const WORK_LOCK_WAIT_MS = 10_000;

/**
 * Ownership of long work (a provisioning, a hard delete) that a lost lock session cannot make run
 * twice. `ownerKey` names the owner: taken without waiting, and free once its session ends, so
 * recovery takes over the work of a process that died. A session can also end alone while its
 * process still works; so the owner holds `workKey` on a second session as well, and a new owner
 * waits up to `waitMs` for it: it takes over only once the old owner's step has ended.
 * 'owned': another session owns the work; 'finishing': a previous owner was still at it when the
 * wait ran out. The lock answered is the owner's (`held()` checks its session); calling it lets go of both.
 */
export async function takeOwnership(pool: Pool, ownerKey: string, workKey: string, waitMs = WORK_LOCK_WAIT_MS): Promise<HeldLock | 'owned' | 'finishing'> {
  const owner = await tryAdvisoryLock(pool, ownerKey);
  if (!owner) return 'owned';
  let work: HeldLock | undefined;
  try {
    work = await waitForAdvisoryLock(pool, workKey, waitMs);
  } finally {
    if (!work) await owner();
  }
  if (!work) return 'finishing';
  const held = work;
  const release = async () => {
    try {
      await held();
    } finally {
      await owner();
    }
  };
  return Object.assign(release, { held: owner.held });
}

/** The release (and liveness check) of the session-level lock `key` that `client` holds. */
function heldOn(client: PoolClient, key: string): HeldLock {
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    try {
      const { rows } = await client.query<{ unlocked: boolean }>('SELECT pg_advisory_unlock(hashtext($1)) AS unlocked', [key]);
      // A session still holding anything (it should not) is not handed out again.
      client.release(rows[0]?.unlocked !== true);
    } catch {
      // The session is gone, and its lock with it.
      client.release(true);
    }
  };
  // A session-level lock lives exactly as long as its session: a session that still answers still holds it.
  const held = () =>
    released
      ? Promise.resolve(false)
      : client.query('SELECT 1').then(
          () => true,
          () => false,
        );
  return Object.assign(release, { held });
}

const lockSessions = new WeakMap<Pool, Pool>();

function lockSessionsOf(pool: Pool): Pool {
  let sessions = lockSessions.get(pool);
  if (!sessions) {
    sessions = new pg.Pool({
      ...pool.options,
      // Every holder at once (a lock is held for a whole provisioning or fleet run); PostgreSQL's max_connections is the real bound.
      max: 1_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      application_name: 'tenantgraph:lock',
    });
    sessions.on('error', () => {}); // an idle session that died is dropped; a held one's holder loses its lock, which PostgreSQL ends with it
    sessions.on('connect', (client) => client.on('error', () => {})); // reported by the holder's next query
    lockSessions.set(pool, sessions);
  }
  return sessions;
}

/** Ends the lock sessions made for `pool` (call when closing it). Locks still held end with their sessions. */
export async function closeLockSessions(pool: Pool): Promise<void> {
  const sessions = lockSessions.get(pool);
  lockSessions.delete(pool);
  await sessions?.end();
}
