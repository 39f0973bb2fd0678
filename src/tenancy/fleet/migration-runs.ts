/**
 * Durable record of fleet migrations in the central database (`migration_runs`,
 * `migration_run_items`): what a run covers, each tenant's status, error, applied files and time.
 * Written as the run goes, so `--status`, the `migrationRun` query and `--resume` see the truth
 * even after the process died.
 */
import type pg from 'pg';
import { type FleetLevel } from './fleet-targets.js';
import { inTransaction } from '../../infra/db-transaction.js';

export const RUN_STATUSES = ['RUNNING', 'DONE', 'FAILED', 'INTERRUPTED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ITEM_STATUSES = ['PENDING', 'RUNNING', 'DONE', 'FAILED'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export type AppliedFile = { target: string; file: string; durationMs: number };

export type MigrationRunInfo = {
  id: string;
  level: FleetLevel | null;
  status: RunStatus;
  requestedBy: string;
  parallel: number;
  total: number;
  done: number;
  failed: number;
  pending: number;
  createdAt: Date;
  finishedAt: Date | null;
};

export type MigrationRunItemInfo = {
  position: number;
  tenantId: string;
  slug: string;
  status: ItemStatus;
  error: string | null;
  applied: AppliedFile[];
  durationMs: number | null;
};

type Db = Pick<pg.Pool, 'query'>;

export async function createRun(
  central: pg.Pool,
  run: { level: FleetLevel | undefined; requestedBy: string; parallel: number; tenantIds: readonly string[] },
): Promise<string> {
  return inTransaction(central, async (client) => {
    const { rows } = await client.query<{ id: string }>('INSERT INTO migration_runs (level, requested_by, parallel) VALUES ($1, $2, $3) RETURNING id', [
      run.level ?? null,
      run.requestedBy,
      run.parallel,
    ]);
    const id = rows[0]!.id;
    await client.query(
      'INSERT INTO migration_run_items (run_id, tenant_id, position) SELECT $1, tenant_id, position::int - 1 FROM unnest($2::uuid[]) WITH ORDINALITY AS u(tenant_id, position)',
      [id, run.tenantIds],
    );
    return id;
  });
}

/**
 * Runs still marked RUNNING whose process is gone (the caller holds the fleet lock, so no live run
 * exists): INTERRUPTED, and their in-flight tenants FAILED. Each file ran in its own transaction, so
 * the file in flight was rolled back by PostgreSQL when the session died.
 */
export async function markInterrupted(central: Db): Promise<number> {
  await central.query(
    `UPDATE migration_run_items SET status = 'FAILED', error = 'interrupted: the process stopped; the file in progress was rolled back', finished_at = now()
      WHERE status = 'RUNNING' AND run_id IN (SELECT id FROM migration_runs WHERE status = 'RUNNING')`,
  );
  const result = await central.query("UPDATE migration_runs SET status = 'INTERRUPTED', finished_at = now() WHERE status = 'RUNNING'");
  return result.rowCount ?? 0;
}

/** The newest run that did not finish cleanly, to resume. */
export async function latestUnfinishedRun(central: Db): Promise<MigrationRunInfo | undefined> {
  const { rows } = await central.query<{ id: string }>(
    "SELECT id FROM migration_runs WHERE status IN ('FAILED', 'INTERRUPTED') ORDER BY created_at DESC LIMIT 1",
  );
  return rows[0] ? getRun(central, rows[0].id) : undefined;
}

/** Puts a run back to work: every tenant not DONE is PENDING again; returns those tenants' ids in order. */
export async function reopenRun(central: Db, runId: string): Promise<string[]> {
  await central.query("UPDATE migration_runs SET status = 'RUNNING', finished_at = NULL WHERE id = $1", [runId]);
  await central.query(
    `UPDATE migration_run_items SET status = 'PENDING', error = NULL, started_at = NULL, finished_at = NULL
      WHERE run_id = $1 AND status <> 'DONE'`,
    [runId],
  );
  const { rows } = await central.query<{ tenant_id: string }>(
    "SELECT tenant_id FROM migration_run_items WHERE run_id = $1 AND status = 'PENDING' ORDER BY position",
    [runId],
  );
  return rows.map((row) => row.tenant_id);
}

export async function itemStarted(central: Db, runId: string, tenantId: string): Promise<void> {
  await central.query("UPDATE migration_run_items SET status = 'RUNNING', started_at = now() WHERE run_id = $1 AND tenant_id = $2", [runId, tenantId]);
}

export async function itemFinished(
  central: Db,
  runId: string,
  tenantId: string,
  outcome: { status: 'DONE' | 'FAILED'; error?: string; applied: AppliedFile[]; durationMs: number },
): Promise<void> {
  await central.query(
    `UPDATE migration_run_items SET status = $3, error = $4, applied = $5::jsonb, duration_ms = $6, finished_at = now()
      WHERE run_id = $1 AND tenant_id = $2`,
    [runId, tenantId, outcome.status, outcome.error ?? null, JSON.stringify(outcome.applied), outcome.durationMs],
  );
}

export async function finishRun(central: Db, runId: string): Promise<RunStatus> {
  const { rows } = await central.query<{ status: RunStatus }>(
    `UPDATE migration_runs SET finished_at = now(),
        status = CASE WHEN EXISTS (SELECT 1 FROM migration_run_items WHERE run_id = $1 AND status <> 'DONE') THEN 'FAILED' ELSE 'DONE' END
      WHERE id = $1 RETURNING status`,
    [runId],
  );
  return rows[0]!.status;
}

export async function getRun(central: Db, runId: string): Promise<MigrationRunInfo | undefined> {
  const { rows } = await central.query<MigrationRunInfo>(
    `SELECT r.id, r.level, r.status, r.requested_by AS "requestedBy", r.parallel, r.created_at AS "createdAt", r.finished_at AS "finishedAt",
            count(i.*)::int AS total,
            count(i.*) FILTER (WHERE i.status = 'DONE')::int AS done,
            count(i.*) FILTER (WHERE i.status = 'FAILED')::int AS failed,
            count(i.*) FILTER (WHERE i.status IN ('PENDING', 'RUNNING'))::int AS pending
       FROM migration_runs r LEFT JOIN migration_run_items i ON i.run_id = r.id
      WHERE r.id = $1 GROUP BY r.id`,
    [runId],
  );
  return rows[0];
}

/** A page of a run's tenants in run order, after position `after` (exclusive). */
export async function listRunItems(central: Db, runId: string, first: number, after: number | undefined): Promise<MigrationRunItemInfo[]> {
  const { rows } = await central.query<MigrationRunItemInfo>(
    `SELECT i.position, i.tenant_id AS "tenantId", t.slug, i.status, i.error, i.applied, i.duration_ms AS "durationMs"
       FROM migration_run_items i JOIN tenants t ON t.id = i.tenant_id
      WHERE i.run_id = $1 AND i.position > $2 ORDER BY i.position LIMIT $3`,
    [runId, after ?? -1, first],
  );
  return rows;
}

/** Each tenant's last fleet-migration outcome when it failed: what `tenants:migrate:status` shows. */
export async function lastFailures(central: Db, tenantIds: readonly string[]): Promise<Map<string, { runId: string; error: string; at: Date }>> {
  const { rows } = await central.query<{ tenant_id: string; run_id: string; error: string; finished_at: Date; status: string }>(
    `SELECT DISTINCT ON (i.tenant_id) i.tenant_id, i.run_id, i.error, i.finished_at, i.status
       FROM migration_run_items i JOIN migration_runs r ON r.id = i.run_id
      WHERE i.tenant_id = ANY($1::uuid[]) AND i.status IN ('DONE', 'FAILED')
      ORDER BY i.tenant_id, i.finished_at DESC`,
    [tenantIds],
  );
  return new Map(rows.filter((row) => row.status === 'FAILED').map((row) => [row.tenant_id, { runId: row.run_id, error: row.error, at: row.finished_at }]));
}
