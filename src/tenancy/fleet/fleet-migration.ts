/**
 * Fleet migrations: the pending migrations of a level applied to many tenants with bounded
 * parallelism, recorded durably (migration-runs.ts), one fleet run at a time.
 *
 * Safety comes from three layers: each file runs in its own transaction (a killed process leaves
 * no half-applied file); `migrate` holds a per-target advisory lock (provisioning and a fleet run
 * never interleave on a tenant); and a run holds the fleet lock for its whole life, so a second
 * run is refused instead of racing the first.
 */
import { tryAdvisoryLock } from '../../infra/advisory-lock.js';
import { migrate, readMigrationStatus } from '../migrator/index.js';
import { type Tenancy } from '../tenancy.js';
import { withTargets, type FleetLevel, type FleetTenant } from './fleet-targets.js';
import {
  createRun,
  finishRun,
  getRun,
  itemFinished,
  itemStarted,
  latestUnfinishedRun,
  markInterrupted,
  reopenRun,
  type AppliedFile,
  type RunStatus,
} from './migration-runs.js';

export const FLEET_MIGRATION_LOCK = 'tenantgraph:fleet-migration';

/** Another fleet migration holds the lock. */
export class FleetBusyError extends Error {
  override readonly name = 'FleetBusyError';
  constructor() {
    super('another fleet migration is running (tenants:migrate, tenants:rollback or migrateTenants); wait for it to finish, then run again');
  }
}

/** Runs `work` for each item with bounded parallelism; the CLI passes its progress-bar runner. */
export type FleetRunner = <T extends { slug: string }>(items: readonly T[], work: (item: T) => Promise<unknown>) => Promise<unknown>;

export type FleetMigrationRequest = {
  level: FleetLevel | undefined;
  parallel: number;
  requestedBy: string;
} & ({ tenants: readonly FleetTenant[] } | { resume: true });

export type StartedFleetMigration = {
  runId: string;
  /** Tenants this start works on (all of a new run; the unfinished ones of a resumed run). */
  tenants: FleetTenant[];
  resumed: boolean;
  /** Settles when every tenant is done or failed; the lock is released by then. Never rejects for a tenant's failure. */
  finished: Promise<RunStatus>;
};

/** Applies one tenant's pending files of `level`; a failing target stops that tenant (the rest go on). */
export async function migrateTenant(tenancy: Tenancy, tenant: FleetTenant, level: FleetLevel | undefined): Promise<AppliedFile[]> {
  return withTargets(tenancy, tenant, level, async (pool, targets) => {
    const applied: AppliedFile[] = [];
    for (const target of targets) {
      const result = await migrate(pool, target);
      applied.push(...result.applied.map((file) => ({ target: target.label, file: file.name, durationMs: file.durationMs })));
      if (result.applied.length > 0) {
        await tenancy.events.publish({ type: 'TenantMigrated', tenantId: tenant.id, target: target.label, applied: result.applied.map((file) => file.name) });
      }
    }
    return applied;
  });
}

/** What each tenant would get, changing nothing (`--dry-run`). */
export async function pendingOf(tenancy: Tenancy, tenant: FleetTenant, level: FleetLevel | undefined): Promise<{ target: string; pending: string[]; edited: string[] }[]> {
  return withTargets(tenancy, tenant, level, async (pool, targets) => {
    const out = [];
    for (const target of targets) {
      const status = await readMigrationStatus(pool, target);
      out.push({ target: target.label, pending: status.pending.map((file) => file.name), edited: status.edited });
    }
    return out;
  });
}

/**
 * Takes the fleet lock (or throws FleetBusyError), records the run, and starts it. Returns once the
 * run is recorded; `finished` settles when it ends.
 */
export async function startFleetMigration(tenancy: Tenancy, request: FleetMigrationRequest, runner: FleetRunner): Promise<StartedFleetMigration> {
  const release = await tryAdvisoryLock(tenancy.central, FLEET_MIGRATION_LOCK);
  if (!release) throw new FleetBusyError();
  try {
    await markInterrupted(tenancy.central);
    let runId: string;
    let tenants: FleetTenant[];
    let level = request.level;
    const resumed = 'resume' in request;
    if ('resume' in request) {
      const previous = await latestUnfinishedRun(tenancy.central);
      if (!previous) throw new Error('no failed or interrupted fleet migration to resume');
      runId = previous.id;
      level = previous.level ?? undefined;
      const ids = await reopenRun(tenancy.central, runId);
      tenants = await tenantsById(tenancy, ids);
    } else {
      tenants = [...request.tenants];
      runId = await createRun(tenancy.central, { level, requestedBy: request.requestedBy, parallel: request.parallel, tenantIds: tenants.map((t) => t.id) });
    }
    const finished = (async () => {
      try {
        await runner(tenants, async (tenant) => {
          const started = performance.now();
          await itemStarted(tenancy.central, runId, tenant.id);
          try {
            const applied = await migrateTenant(tenancy, tenant, level);
            await itemFinished(tenancy.central, runId, tenant.id, { status: 'DONE', applied, durationMs: Math.round(performance.now() - started) });
            return applied;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            await itemFinished(tenancy.central, runId, tenant.id, { status: 'FAILED', error: message, applied: [], durationMs: Math.round(performance.now() - started) });
            throw error;
          }
        });
        return await finishRun(tenancy.central, runId);
      } finally {
        await release();
      }
    })();
    return { runId, tenants, resumed, finished };
  } catch (error) {
    await release();
    throw error;
  }
}

async function tenantsById(tenancy: Tenancy, ids: readonly string[]): Promise<FleetTenant[]> {
  const { rows } = await tenancy.central.query<FleetTenant>(
    `SELECT t.id, t.level, t.key, t.slug, t.status, t.isolation, t.database_name AS "databaseName", t.schema_name AS "schemaName"
       FROM tenants t WHERE t.id = ANY($1::uuid[])`,
    [ids],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export { getRun };
