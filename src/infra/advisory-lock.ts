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
 * The session is a separate connection made with `pool`'s settings, never one of the pool's: the
 * locked work needs the pool itself, and with one pooled connection parked per lock, as many
 * concurrent lock holders as the pool has connections would wait on each other forever (found
 * with 200 provisionings at parallelism 4 against a central pool of 10).
 */
export async function tryAdvisoryLock(pool: Pool, key: string): Promise<(() => Promise<void>) | undefined> {
  const client = new pg.Client({ ...pool.options, application_name: 'tenantgraph:lock' });
  client.on('error', () => {}); // a lost session loses its lock; the holder's next query reports it
  try {
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    if (!rows[0]?.locked) {
      await client.end();
      return undefined;
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Ending the session releases its lock whether or not the unlock gets through.
    await client.end().catch(() => {});
  };
}
