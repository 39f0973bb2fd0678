/**
 * One transaction on one pooled connection: BEGIN, the work, COMMIT — or ROLLBACK and the error.
 * A connection whose ROLLBACK failed is destroyed rather than returned to the pool, so the next
 * borrower never inherits an aborted transaction.
 */
import type pg from 'pg';

export async function inTransaction<T>(pool: Pick<pg.Pool, 'connect'>, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
