/**
 * Which tenants are gone, read from the central database itself (never a cache): the job worker
 * asks before running a batch, so a job never runs for a tenant deleted since it was queued.
 */
import type pg from 'pg';

/**
 * The ids among `tenantIds` whose tenant is deleted: status DELETED, `deleted_at` set, or no row.
 * DELETING is not deleted yet: the jobs that tear a tenant down run in that state.
 */
export async function findDeletedTenants(pool: Pick<pg.Pool, 'query'>, tenantIds: readonly string[]): Promise<ReadonlySet<string>> {
  if (tenantIds.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(
    `SELECT wanted.id::text AS id
       FROM unnest($1::uuid[]) AS wanted(id)
      WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = wanted.id AND t.deleted_at IS NULL AND t.status <> 'DELETED')`,
    [tenantIds],
  );
  return new Set(rows.map((row) => row.id));
}
