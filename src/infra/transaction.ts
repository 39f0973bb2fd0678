import { type Pool, type PoolClient } from 'pg';

/** Runs `fn` in one transaction on a connection of `pool`: COMMIT when it returns, ROLLBACK when it throws (and rethrows). */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
