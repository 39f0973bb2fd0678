/**
 * The record of provisioning attempts (`provisioning_runs`, `provisioning_steps`): what
 * `tenant.provisioning` shows and what a worker reads to finish an attempt whose process died.
 */
import type pg from 'pg';
import { type RunInput, type RunState, type StepName } from './provisioning-steps.js';

export type RunStatus = 'PENDING' | 'RUNNING' | 'UNDOING' | 'ACTIVE' | 'FAILED';
export type StepStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'UNDONE';

export type RunRow = { id: string; tenantId: string; attempt: number; status: RunStatus; input: RunInput; state: RunState; error: string | null };

export type ProvisioningView = {
  status: RunStatus;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  steps: { name: string; status: StepStatus; durationMs: number | null; error: string | null }[];
};

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const RUN_COLUMNS = 'id, tenant_id AS "tenantId", attempt, status, input, state, error';

/** A new attempt, PENDING. Runs inside the caller's transaction when `db` is one. */
export async function insertRun(db: Queryable, tenantId: string, attempt: number, input: RunInput): Promise<RunRow> {
  const { rows } = await db.query<RunRow>(`INSERT INTO provisioning_runs (tenant_id, attempt, input) VALUES ($1, $2, $3::jsonb) RETURNING ${RUN_COLUMNS}`, [
    tenantId,
    attempt,
    JSON.stringify(input),
  ]);
  return rows[0]!;
}

export async function latestRun(db: Queryable, tenantId: string): Promise<RunRow | undefined> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM provisioning_runs WHERE tenant_id = $1 ORDER BY attempt DESC LIMIT 1`, [tenantId]);
  return rows[0];
}

/** RUNNING, with its steps listed PENDING. A run starts once: a run taken over after a crash is followed by a new one. */
export async function startRun(db: Queryable, runId: string, steps: readonly StepName[]): Promise<void> {
  // ON CONFLICT: a process may have died between this insert and the status change below (the run is still PENDING).
  await db.query(
    `INSERT INTO provisioning_steps (run_id, position, name) SELECT $1, p, n FROM unnest($2::text[]) WITH ORDINALITY AS s(n, p)
     ON CONFLICT (run_id, name) DO UPDATE SET status = 'PENDING', duration_ms = NULL, error = NULL, started_at = NULL`,
    [runId, steps],
  );
  await db.query("UPDATE provisioning_runs SET status = 'RUNNING', started_at = now(), finished_at = NULL, error = NULL WHERE id = $1", [runId]);
}

export async function markStep(db: Queryable, runId: string, name: StepName, status: StepStatus, durationMs?: number, error?: string): Promise<void> {
  await db.query(
    `UPDATE provisioning_steps SET status = $3, duration_ms = coalesce($4, duration_ms), error = $5,
            started_at = CASE WHEN $3 = 'RUNNING' THEN now() ELSE started_at END
      WHERE run_id = $1 AND name = $2`,
    [runId, name, status, durationMs ?? null, error ?? null],
  );
}

/** Every DONE step of the run is UNDONE once undo has removed what it made. */
export async function markUndone(db: Queryable, runId: string): Promise<void> {
  await db.query("UPDATE provisioning_steps SET status = 'UNDONE' WHERE run_id = $1 AND status IN ('DONE', 'RUNNING')", [runId]);
}

export async function setRunStatus(db: Queryable, runId: string, status: RunStatus, error?: string | null): Promise<void> {
  const finished = status === 'ACTIVE' || status === 'FAILED';
  await db.query(`UPDATE provisioning_runs SET status = $2, error = coalesce($3, error), finished_at = ${finished ? 'now()' : 'NULL'} WHERE id = $1`, [
    runId,
    status,
    error ?? null,
  ]);
}

export async function saveRunState(db: Queryable, runId: string, patch: RunState): Promise<void> {
  await db.query('UPDATE provisioning_runs SET state = state || $2::jsonb WHERE id = $1', [runId, JSON.stringify(patch)]);
}

/**
 * The latest attempt and its steps of each tenant, for `tenant.provisioning` (a list of tenants
 * asks for many at once: two statements whatever their number). A tenant made before runs were
 * recorded has none: undefined in its place.
 */
export async function provisioningViews(db: Queryable, tenantIds: readonly string[]): Promise<(ProvisioningView | undefined)[]> {
  const { rows: runs } = await db.query<{ id: string; tenantId: string; status: RunStatus; attempt: number; startedAt: Date | null; finishedAt: Date | null; error: string | null }>(
    `SELECT DISTINCT ON (tenant_id) id, tenant_id AS "tenantId", status, attempt, started_at AS "startedAt", finished_at AS "finishedAt", error
       FROM provisioning_runs WHERE tenant_id = ANY($1::uuid[]) ORDER BY tenant_id, attempt DESC`,
    [tenantIds],
  );
  const { rows: steps } = await db.query<ProvisioningView['steps'][number] & { runId: string }>(
    'SELECT run_id AS "runId", name, status, duration_ms AS "durationMs", error FROM provisioning_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, position',
    [runs.map((run) => run.id)],
  );
  const stepsByRun = new Map<string, ProvisioningView['steps']>();
  for (const { runId, ...step } of steps) stepsByRun.set(runId, [...(stepsByRun.get(runId) ?? []), step]);
  const viewByTenant = new Map(runs.map(({ id, tenantId, ...run }) => [tenantId, { ...run, steps: stepsByRun.get(id) ?? [] }]));
  return tenantIds.map((id) => viewByTenant.get(id));
}

/** Runs a worker should look at: unfinished ones (their process may have died), PENDING ones only once they waited a while. */
export async function openRunTenants(db: Queryable, pendingAfterSeconds: number): Promise<string[]> {
  const { rows } = await db.query<{ tenantId: string }>(
    `SELECT DISTINCT tenant_id AS "tenantId" FROM provisioning_runs
      WHERE status IN ('RUNNING', 'UNDOING') OR (status = 'PENDING' AND created_at < now() - make_interval(secs => $1))`,
    [pendingAfterSeconds],
  );
  return rows.map((row) => row.tenantId);
}
