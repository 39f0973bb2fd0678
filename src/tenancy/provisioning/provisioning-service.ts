/**
 * Provisioning as a durable job: createTenant writes the row, its run and the pg-boss job in one
 * transaction and returns; a worker (the `tenant.provision` job, or this process at once when it
 * runs the worker) drives the steps; retryProvisioning starts a new attempt; recovery finishes
 * what a dead process left (provisionings and hard deletes).
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type JobQueue } from '../../infra/jobs/index.js';
import { inTransaction } from '../../infra/db-transaction.js';
import { DOMAIN_VERIFY_JOB } from '../domains/tenant-domains.js';
import { type LifecycleActor, type TenantLifecycle } from '../lifecycle/tenant-lifecycle.js';
import { UUID_PATTERN } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { driveProvisioning, type DriveResult, type DriverDeps } from './provisioning-driver.js';
import { makeSchemaSpares } from './schema-spares.js';
import { insertRun, latestRun, openRunTenants, provisioningViews, type ProvisioningView } from './provisioning-runs.js';

export const PROVISION_JOB = 'tenant.provision';

/** PENDING runs older than this are driven by recovery too (their job should have run by then). */
const PENDING_GRACE_SECONDS = 60;

export type ProvisioningService = ReturnType<typeof makeProvisioningService>;

export function makeProvisioningService(deps: {
  tenancy: Tenancy;
  runSeeders?: (tenantId: string, seeders: readonly string[]) => Promise<void>;
  jobs: () => Pick<JobQueue<unknown>, 'enqueueCentral'>;
  lifecycle: Pick<TenantLifecycle, 'finishInterruptedDeletes'>;
}) {
  const { tenancy } = deps;
  /** Drives started here in the background (kicks, recovery): close() waits for them. */
  const inFlight = new Set<Promise<unknown>>();
  /** Set while this process runs the job worker: only then does it provision in the background. */
  let working = false;
  let recoveryTimer: NodeJS.Timeout | undefined;

  const track = <T>(promise: Promise<T>) => {
    const settled = promise.catch((error: unknown) => tenancy.logger.error({ err: error }, 'background provisioning failed'));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  };

  // Only the durable path (createTenant, retries, recovery) claims spares; in-process provisioning makes its storage.
  const spares = makeSchemaSpares(tenancy, track);
  const driverDeps: DriverDeps = {
    tenancy,
    spares,
    runSeeders: deps.runSeeders,
    queueDomainCheck: async (domainId) => {
      await deps.jobs().enqueueCentral(DOMAIN_VERIFY_JOB, { domainId });
    },
    stepDelayMs: tenancy.config.tenancy.provisioningStepDelayMs,
  };

  const service = {
    /** Joins the caller's transaction: the job exists only if the row does. */
    enqueue: (db: pg.PoolClient, tenantId: string) => deps.jobs().enqueueCentral(PROVISION_JOB, { tenantId }, { db }),

    /** Right after commit: a worker process starts at once rather than at its next poll (the job stays as the durable fallback). */
    kick(tenantId: string): void {
      if (working) track(service.drive(tenantId));
    },

    async drive(tenantId: string): Promise<DriveResult> {
      try {
        return await driveProvisioning(driverDeps, tenantId);
      } finally {
        spares.replenishDue();
      }
    },

    /** Each tenant's latest attempt (undefined: none recorded), in one read for all of them. */
    views: (tenantIds: readonly string[]): Promise<(ProvisioningView | undefined)[]> => provisioningViews(tenancy.central, tenantIds),

    /** A new attempt of a FAILED provisioning, from the beginning (after cleaning up what the last one left). */
    async retry(actor: LifecycleActor, id: string): Promise<{ id: string }> {
      if (!UUID_PATTERN.test(id)) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
      const { rows } = await tenancy.central.query<{ status: string; parentId: string | null; grandparentId: string | null; slug: string }>(
        'SELECT t.status, t.slug, t.parent_id AS "parentId", p.parent_id AS "grandparentId" FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id WHERE t.id = $1',
        [id],
      );
      const row = rows[0];
      if (!row || !(actor.kind === 'system' || actor.tenantId === row.parentId || actor.tenantId === row.grandparentId)) {
        throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
      }
      const last = await latestRun(tenancy.central, id);
      if (row.status !== 'FAILED' || !last || last.status !== 'FAILED') {
        throw new AppError(ErrorCode.CONFLICT, `Tenant ${row.slug} is ${row.status}: only a FAILED provisioning can be retried`, { details: { field: 'status' } });
      }
      await inTransaction(tenancy.central, async (client) => {
        const updated = await client.query("UPDATE tenants SET status = 'PROVISIONING', updated_at = now() WHERE id = $1 AND status = 'FAILED'", [id]);
        if (updated.rowCount !== 1) throw new AppError(ErrorCode.CONFLICT, `Tenant ${row.slug} changed meanwhile; try again`, { details: { field: 'status' } });
        const { failAfter: _failAfter, ...input } = last.input;
        // The plan's seeders as they are now: fixing the plan is one way to fix a failed seeder.
        const plan = await client.query<{ seeders: unknown }>('SELECT p.seeders FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1', [id]);
        const seeders = Array.isArray(plan.rows[0]?.seeders) ? (plan.rows[0].seeders as unknown[]).filter((name): name is string => typeof name === 'string') : [];
        await insertRun(client, id, last.attempt + 1, { ...input, seeders });
        await service.enqueue(client, id);
      }).catch((error: unknown) => {
        if ((error as { code?: string }).code === '23505') throw new AppError(ErrorCode.CONFLICT, 'A retry was started meanwhile', { details: { field: 'status' } });
        throw error;
      });
      await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: id, from: 'FAILED', to: 'PROVISIONING' });
      service.kick(id);
      return { id };
    },

    /** Finishes provisionings and hard deletes whose process died. Answers how many it looked at. */
    async recover(): Promise<number> {
      const tenants = await openRunTenants(tenancy.central, PENDING_GRACE_SECONDS);
      for (const tenantId of tenants) await service.drive(tenantId);
      const deletes = await deps.lifecycle.finishInterruptedDeletes();
      return tenants.length + deletes;
    },

    /** At worker start, then every PROVISIONING_RECOVERY_INTERVAL_MS, in the background. */
    startWorking(): void {
      working = true;
      const tick = () => track(service.recover());
      tick();
      recoveryTimer = setInterval(tick, tenancy.config.tenancy.provisioningRecoveryIntervalMs);
      recoveryTimer.unref();
    },

    async close(): Promise<void> {
      working = false;
      if (recoveryTimer) clearInterval(recoveryTimer);
      await Promise.allSettled([...inFlight]);
    },
  };
  return service;
}
