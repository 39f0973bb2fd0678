/**
 * Cluster schema generation for the generateClusterSchemas mutation, the clusterSchemas query and
 * the yearly schedule. A request records PENDING rows in `cluster_schemas` (idempotent: READY rows
 * stay READY) and enqueues one durable job per tenant and year (`cluster.generate`, a singleton
 * per tenant and year, so repeated requests do not pile up); the job makes whatever rows of that
 * tenant and year are not READY. `cluster.prepare-next-year` runs daily (pg-boss cron) and, from
 * CLUSTER_PREPARE_FROM on, requests next year's schemas for every live tenant not ready — so
 * failures are retried daily.
 */
import { defineCentralJob, defineTenantJob, type JobQueue } from '../../infra/jobs/index.js';
import { type TenantContext } from '../bootstrappers/index.js';
import { type ClusterModule } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import {
  clusterTenantsUnder,
  generateForTenant,
  isWithin,
  listClusterSchemas,
  modulesFor,
  pendingModules,
  requestClusterSchemas,
  tenantsNotReady,
  type ClusterSchemaRow,
} from './cluster-generation.js';
import { type FleetTenant } from '../fleet/fleet-targets.js';

export type ClusterSchemaService = {
  /** Whether a user acting for `principalTenantId` (an admin there) may manage `tenantId` (itself or below). */
  isWithin(principalTenantId: string, tenantId: string): Promise<boolean>;
  /** Records PENDING rows for every clinic at or below `tenantId` and enqueues their jobs; returns the rows as they stand. Undefined: no such tenant. */
  generate(tenantId: string, year: number, modules: readonly ClusterModule[] | null): Promise<ClusterSchemaRow[] | undefined>;
  list(tenantId: string): Promise<ClusterSchemaRow[]>;
  /** The job's work: makes the rows of this tenant and year that are not READY. */
  runGeneration(tenant: FleetTenant, year: number): Promise<void>;
  /** The yearly step (cron): from CLUSTER_PREPARE_FROM on, requests next year's schemas for tenants not ready. */
  prepareNextYear(now: Date): Promise<{ due: boolean; year?: number; enqueued: number }>;
};

export const CLUSTER_GENERATE_JOB = 'cluster.generate';
export const CLUSTER_PREPARE_JOB = 'cluster.prepare-next-year';

export function makeClusterSchemaService(tenancy: Tenancy, jobs: () => JobQueue<TenantContext>): ClusterSchemaService {
  const enqueue = (tenantId: string, year: number) =>
    jobs().enqueue(tenantId, CLUSTER_GENERATE_JOB, { year }, { singletonKey: `${tenantId}:${year}` });

  const request = async (tenants: readonly FleetTenant[], year: number, modules: readonly ClusterModule[] | null) => {
    for (const tenant of tenants) {
      await requestClusterSchemas(tenancy.central, tenant.id, year, await modulesFor(tenancy, tenant.id, modules));
      if ((await pendingModules(tenancy.central, tenant.id, year)).length > 0) await enqueue(tenant.id, year);
    }
  };

  return {
    isWithin: (principalTenantId, tenantId) => isWithin(tenancy.central, principalTenantId, tenantId),
    async generate(tenantId, year, modules) {
      const exists = await tenancy.central.query('SELECT 1 FROM tenants WHERE id = $1 AND deleted_at IS NULL', [tenantId]);
      if (exists.rowCount === 0) return undefined;
      await request(await clusterTenantsUnder(tenancy.central, tenantId), year, modules);
      return listClusterSchemas(tenancy.central, tenantId);
    },
    list: (tenantId) => listClusterSchemas(tenancy.central, tenantId),
    async runGeneration(tenant, year) {
      const modules = await pendingModules(tenancy.central, tenant.id, year);
      if (modules.length > 0) await generateForTenant(tenancy, tenant, year, modules);
    },
    async prepareNextYear(now) {
      const from = tenancy.config.tenancy.clusterPrepareFrom;
      if (now.getTime() < Date.UTC(now.getUTCFullYear(), from.month - 1, from.day)) return { due: false, enqueued: 0 };
      const year = now.getUTCFullYear() + 1;
      const tenants = await tenantsNotReady(tenancy, year);
      await request(tenants, year, null);
      return { due: true, year, enqueued: tenants.length };
    },
  };
}

/** The generation job: runs in the tenant's context; a failure is recorded on the rows and retried by pg-boss. */
export const clusterGenerateJob = defineTenantJob<{ year: number }, TenantContext>(
  CLUSTER_GENERATE_JOB,
  async (payload, ctx) => {
    await ctx.services.clusterSchemas.runGeneration(ctx.db.tenantRecord(), payload.year);
  },
  { retryLimit: 3, retryDelaySeconds: 30, singleton: true },
);

/** The daily step; `now` may be given in the payload (tests, manual runs). */
export const clusterPrepareNextYearJob = defineCentralJob<{ now?: string } | undefined, TenantContext>(
  CLUSTER_PREPARE_JOB,
  async (payload, ctx) => {
    await ctx.services.clusterSchemas.prepareNextYear(payload?.now ? new Date(payload.now) : new Date());
  },
  { retryLimit: 1, singleton: true },
);
