/**
 * Reads over pg-boss's job table for the admin API: pg-boss 10 can fetch one job by queue and id,
 * but cannot list jobs across queues or find a job by id alone. This reads `<schema>.job` (one
 * partition per queue) with the column names of pg-boss 10.4 (pinned in package.json); when
 * pg-boss is upgraded, test/integration/jobs.test.ts fails here first.
 */
import { type TenantJobData } from './job-definitions.js';

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** One job as the admin API shows it. The payload is left out: it is the tenant's business. */
export type JobRecord = {
  id: string;
  name: string;
  /** null for a central job. */
  tenantId: string | null;
  state: JobState;
  /** Attempts started so far (0 while it has never run). */
  attempts: number;
  retryLimit: number;
  singletonKey: string | null;
  createdAt: Date;
  /** Not before this time (the next retry, when retrying). */
  runAfter: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** Message of the last failure, when the last attempt failed. */
  error: string | null;
  /** Why the job was completed without running (e.g. its tenant was deleted). */
  discardedReason: string | null;
};

export type JobListFilter = { state?: JobState | null; name?: string | null; tenantId?: string | null };
/** Where a page starts: after the job with this creation time (epoch seconds, exact) and id. */
export type JobPosition = { createdEpoch: string; id: string };
export type JobListPage = { jobs: { record: JobRecord; position: JobPosition }[]; hasNextPage: boolean };

/** What pg-boss's `getDb()` answers with. */
export type SqlExecutor = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

type JobRow = {
  id: string;
  name: string;
  data: unknown;
  state: JobState;
  retry_count: number;
  retry_limit: number;
  singleton_key: string | null;
  created_on: Date;
  start_after: Date;
  started_on: Date | null;
  completed_on: Date | null;
  output: unknown;
  created_epoch: string;
};

const COLUMNS = `id::text, name, data, state::text AS state, retry_count, retry_limit, singleton_key, created_on, start_after,
  started_on, completed_on, output, extract(epoch FROM created_on)::text AS created_epoch`;

/** pg-boss's own queues (cron delivery) are not ours to show. */
const OWN_QUEUES = `name NOT LIKE '\\_\\_pgboss\\_\\_%'`;

export class JobStore {
  private readonly table: string;

  constructor(
    private readonly db: SqlExecutor,
    schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,49}$/.test(schema)) throw new Error(`invalid pg-boss schema name ${JSON.stringify(schema)}`);
    this.table = `"${schema}".job`;
  }

  async list(filter: JobListFilter, first: number, after: JobPosition | undefined): Promise<JobListPage> {
    const { rows } = await this.db.executeSql(
      `SELECT ${COLUMNS} FROM ${this.table}
        WHERE ${OWN_QUEUES}
          AND ($1::text IS NULL OR state::text = $1)
          AND ($2::text IS NULL OR name = $2)
          AND ($3::text IS NULL OR data->>'tenantId' = $3)
          AND ($4::numeric IS NULL OR (extract(epoch FROM created_on), id) < ($4::numeric, $5::uuid))
        ORDER BY created_on DESC, id DESC
        LIMIT $6`,
      [filter.state ?? null, filter.name ?? null, filter.tenantId ?? null, after?.createdEpoch ?? null, after?.id ?? null, first + 1],
    );
    const page = (rows as JobRow[]).slice(0, first);
    return {
      jobs: page.map((row) => ({ record: toRecord(row), position: { createdEpoch: row.created_epoch, id: row.id } })),
      hasNextPage: rows.length > first,
    };
  }

  /** A job by id alone (ids are unique across queues: pg-boss makes them with gen_random_uuid). */
  async get(id: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.executeSql(`SELECT ${COLUMNS} FROM ${this.table} WHERE ${OWN_QUEUES} AND id = $1::uuid`, [id]);
    const row = rows[0] as JobRow | undefined;
    return row ? toRecord(row) : undefined;
  }
}

function toRecord(row: JobRow): JobRecord {
  const data = row.data as Partial<TenantJobData> | null;
  const output = (row.output ?? null) as { message?: unknown; discarded?: unknown; reason?: unknown } | null;
  const discarded = row.state === 'completed' && typeof output?.discarded === 'string';
  const failedLast = (row.state === 'failed' || row.state === 'retry') && typeof output?.message === 'string';
  return {
    id: row.id,
    name: row.name,
    tenantId: typeof data?.tenantId === 'string' ? data.tenantId : null,
    state: row.state,
    // pg-boss bumps retry_count on every fetch after the first.
    attempts: row.started_on ? row.retry_count + 1 : 0,
    retryLimit: row.retry_limit,
    singletonKey: row.singleton_key,
    createdAt: row.created_on,
    runAfter: row.start_after,
    startedAt: row.started_on,
    completedAt: row.completed_on,
    error: failedLast ? String(output!.message) : null,
    discardedReason: discarded ? String(output!.reason ?? output!.discarded) : null,
  };
}
