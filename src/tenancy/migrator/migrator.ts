/**
 * Our SQL migrator (DESIGN §3). Applies a target folder's numbered SQL files to one database or
 * schema: each file in its own transaction, recorded in `_tenantgraph_migrations` of that schema,
 * under an advisory lock per target so two processes never migrate the same target at once.
 */
import { type Pool, type PoolClient, type QueryResult } from 'pg';
import { type MigrationFile } from './migration-files.js';
import { MigrationChecksumError, MigrationError, MigrationFailedError } from './migration-errors.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { withAdvisoryLock } from '../../infra/advisory-lock.js';

export const MIGRATIONS_TABLE = '_tenantgraph_migrations';

export type MigrationTarget = {
  /** What is migrated, for messages and the lock key, e.g. `central` or `tenant:demo_clinic_a`. */
  label: string;
  /** The schema holding the target's tables and its migrations table; default `public`. */
  schema?: string;
  files: readonly MigrationFile[];
  /**
   * SQL run under the target's lock once its schema and bookkeeping table exist, before any file
   * (e.g. a tenant role's default privileges, so the tables the files make are granted as they are
   * made; the bookkeeping table, made first, stays out of them).
   */
  setupSql?: string;
};

export type AppliedMigration = { name: string; checksum: string; appliedAt: Date; durationMs: number };

export type MigrationStatus = {
  applied: AppliedMigration[];
  pending: MigrationFile[];
  /** Applied files whose content changed since. */
  edited: string[];
  /** Applied names with no file: the database is ahead of this code. */
  unknown: string[];
};

export type MigrateResult = { target: string; applied: { name: string; durationMs: number }[]; alreadyApplied: number };

/** What has been applied and what is pending, without changing anything. */
export async function readMigrationStatus(pool: Pool, target: MigrationTarget): Promise<MigrationStatus> {
  const client = await pool.connect();
  try {
    return await statusWith(client, target);
  } finally {
    client.release();
  }
}

/**
 * Applies the pending files of `target`. Stops at the first failing file (rolled back, earlier
 * files stay applied) and throws MigrationFailedError naming it. Refuses to run at all when an
 * applied file was edited or the database knows migrations this code does not.
 */
export async function migrate(
  pool: Pool,
  target: MigrationTarget,
  onApplied?: (file: string, durationMs: number) => void,
): Promise<MigrateResult> {
  const schema = target.schema ?? 'public';
  return withAdvisoryLock(pool, lockKey(target), async (client) => {
    // One round trip (an implicit transaction): schema, bookkeeping table, setup, and the history
    // read back. Round trips were most of a migration's cost on a new tenant's four small schemas.
    const results = (await client.query(
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};
       CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.${MIGRATIONS_TABLE} (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         duration_ms integer NOT NULL
       );
       ${target.setupSql ?? ''};
       ${historySql(schema)}`,
    )) as unknown as QueryResult<HistoryRow>[];
    const status = statusFrom(results.at(-1)!.rows, target);
    assertHistoryMatches(status, target);
    const applied: MigrateResult['applied'] = [];
    for (const file of status.pending) {
      const durationMs = await applyOne(client, schema, file, target.label);
      applied.push({ name: file.name, durationMs });
      onApplied?.(file.name, durationMs);
    }
    return { target: target.label, applied, alreadyApplied: status.applied.length };
  });
}

/** Throws when the recorded history and the files disagree. */
export function assertHistoryMatches(status: MigrationStatus, target: MigrationTarget): void {
  const [edited] = status.edited;
  if (edited) throw new MigrationChecksumError(edited, target.label);
  if (status.unknown.length > 0) {
    throw new MigrationError(
      `${target.label} has applied migrations this code does not have (${status.unknown.join(', ')}): ` +
        'the database was migrated by a newer version. Deploy that version, or restore the files.',
    );
  }
}

/** A file in its own transaction, in two round trips: the file, then its history row with the commit. */
async function applyOne(client: PoolClient, schema: string, file: MigrationFile, label: string): Promise<number> {
  const started = performance.now();
  try {
    // SET LOCAL: the search path ends with the transaction, so a pooled connection is left clean.
    await client.query(`BEGIN; SET LOCAL search_path TO ${quoteIdent(schema)}, public;\n${file.sql}`);
    const durationMs = Math.round(performance.now() - started);
    await client.query(
      `INSERT INTO ${quoteIdent(schema)}.${MIGRATIONS_TABLE} (name, checksum, duration_ms)
       VALUES (${client.escapeLiteral(file.name)}, ${client.escapeLiteral(file.checksum)}, ${durationMs}); COMMIT`,
    );
    return durationMs;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw new MigrationFailedError(file.name, label, error);
  }
}

type HistoryRow = { name: string; checksum: string; applied_at: Date; duration_ms: number };

const historySql = (schema: string) => `SELECT name, checksum, applied_at, duration_ms FROM ${quoteIdent(schema)}.${MIGRATIONS_TABLE} ORDER BY name`;

async function statusWith(client: PoolClient, target: MigrationTarget): Promise<MigrationStatus> {
  const schema = target.schema ?? 'public';
  const exists = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    `${quoteIdent(schema)}.${MIGRATIONS_TABLE}`,
  ]);
  return statusFrom(exists.rows[0]?.found ? (await client.query<HistoryRow>(historySql(schema))).rows : [], target);
}

function statusFrom(rows: readonly HistoryRow[], target: MigrationTarget): MigrationStatus {
  const files = new Map(target.files.map((file) => [file.name, file]));
  const appliedNames = new Set(rows.map((row) => row.name));
  return {
    applied: rows.map((row) => ({ name: row.name, checksum: row.checksum, appliedAt: row.applied_at, durationMs: row.duration_ms })),
    pending: target.files.filter((file) => !appliedNames.has(file.name)),
    edited: rows.filter((row) => files.has(row.name) && files.get(row.name)!.checksum !== row.checksum).map((row) => row.name),
    unknown: rows.filter((row) => !files.has(row.name)).map((row) => row.name),
  };
}

/**
 * The newest `steps` applied files of a target and whether each has a `.down.sql`. Used to refuse
 * a rollback before touching anything.
 */
export function planRollback(status: MigrationStatus, downs: ReadonlyMap<string, MigrationFile>, steps: number): { files: string[]; missing: string[] } {
  const files = status.applied
    .map((row) => row.name)
    .sort()
    .reverse()
    .slice(0, steps);
  return { files, missing: files.filter((name) => !downs.has(name)) };
}

/**
 * Undoes the newest `steps` applied files of `target`, newest first: each down file and the removal
 * of its history row in one transaction, under the same lock as `migrate`. Refuses (changing
 * nothing) when a down file is missing or the history disagrees with the files.
 */
export async function rollback(
  pool: Pool,
  target: MigrationTarget,
  downs: ReadonlyMap<string, MigrationFile>,
  steps: number,
): Promise<{ target: string; rolledBack: string[] }> {
  const schema = target.schema ?? 'public';
  return withAdvisoryLock(pool, lockKey(target), async (client) => {
    const status = await statusWith(client, target);
    assertHistoryMatches(status, target);
    const plan = planRollback(status, downs, steps);
    if (plan.missing.length > 0) {
      throw new MigrationError(`${target.label}: no .down.sql for ${plan.missing.join(', ')}; nothing was rolled back.`);
    }
    for (const name of plan.files) {
      const down = downs.get(name)!;
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}, public`);
        await client.query(down.sql);
        await client.query(`DELETE FROM ${quoteIdent(schema)}.${MIGRATIONS_TABLE} WHERE name = $1`, [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new MigrationFailedError(down.name, target.label, error);
      }
    }
    return { target: target.label, rolledBack: plan.files };
  });
}

function lockKey(target: MigrationTarget): string {
  return `tenantgraph:migrate:${target.label}:${target.schema ?? 'public'}`;
}
