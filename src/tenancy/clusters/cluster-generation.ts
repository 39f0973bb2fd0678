/**
 * Generating a tenant's yearly cluster schemas (emr_2027, pos_2027, ...) on demand and ahead of the
 * new year, with their state in central `cluster_schemas` (PENDING → CREATING → READY | FAILED).
 * Idempotent: an existing schema is only brought up to date (the migrator applies what is pending),
 * and a READY row stays READY.
 */
import type pg from 'pg';
import { mapLimit } from '../../infra/map-limit.js';
import { selectFleetTenants, type FleetTenant } from '../fleet/fleet-targets.js';
import { CLUSTER_MODULES, type ClusterModule } from '../model.js';
import { ensureClusterSchemas } from '../provisioning/cluster-schemas.js';
import { assertClusterYear } from '../storage-names.js';
import { type Tenancy } from '../tenancy.js';

export const CLUSTER_STATUSES = ['PENDING', 'CREATING', 'READY', 'FAILED'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

export type ClusterSchemaRow = {
  tenantId: string;
  tenantSlug: string;
  module: ClusterModule;
  year: number;
  status: ClusterStatus;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export type GenerationResult = { module: ClusterModule; status: 'READY' | 'FAILED'; error?: string };

/** The modules to generate: those asked for, else those the tenant's plan enables (all without a plan). */
export async function modulesFor(tenancy: Tenancy, tenantId: string, requested?: readonly ClusterModule[] | null): Promise<ClusterModule[]> {
  if (requested && requested.length > 0) return CLUSTER_MODULES.filter((module) => requested.includes(module));
  const plan = await tenancy.planModules(tenantId);
  return plan === 'all' ? [...CLUSTER_MODULES] : CLUSTER_MODULES.filter((module) => plan.includes(module));
}

/** Records the request: new rows PENDING, FAILED rows PENDING again, READY and in-flight rows untouched. */
export async function requestClusterSchemas(central: Pick<pg.Pool, 'query'>, tenantId: string, year: number, modules: readonly ClusterModule[]): Promise<void> {
  assertClusterYear(year);
  await central.query(
    `INSERT INTO cluster_schemas (tenant_id, module, year) SELECT $1, module, $2 FROM unnest($3::text[]) AS module
     ON CONFLICT (tenant_id, module, year) DO UPDATE SET status = 'PENDING', error = NULL, updated_at = now()
       WHERE cluster_schemas.status = 'FAILED'`,
    [tenantId, year, modules],
  );
}

/** Makes one tenant's schemas for `year`; rows go CREATING → READY or FAILED. Throws when any module failed. */
export async function generateForTenant(tenancy: Tenancy, tenant: FleetTenant, year: number, requested?: readonly ClusterModule[] | null): Promise<GenerationResult[]> {
  const modules = await modulesFor(tenancy, tenant.id, requested);
  await requestClusterSchemas(tenancy.central, tenant.id, year, modules);
  // READY schemas are left alone (keeping them current is tenants:migrate --level CLUSTER's job).
  const { rows } = await tenancy.central.query<{ module: ClusterModule }>(
    "SELECT module FROM cluster_schemas WHERE tenant_id = $1 AND year = $2 AND module = ANY($3::text[]) AND status = 'READY'",
    [tenant.id, year, modules],
  );
  const ready = new Set(rows.map((row) => row.module));
  const results: GenerationResult[] = modules.filter((module) => ready.has(module)).map((module) => ({ module, status: 'READY' as const }));
  for (const module of modules.filter((m) => !ready.has(m))) {
    await setStatus(tenancy.central, tenant.id, module, year, 'CREATING', null);
    try {
      await ensureClusterSchemas(tenancy, tenant, year, [module]);
      await setStatus(tenancy.central, tenant.id, module, year, 'READY', null);
      await tenancy.events.publish({ type: 'ClusterSchemaCreated', tenantId: tenant.id, module, year });
      results.push({ module, status: 'READY' });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await setStatus(tenancy.central, tenant.id, module, year, 'FAILED', message);
      results.push({ module, status: 'FAILED', error: message });
    }
  }
  const failed = results.filter((result) => result.status === 'FAILED');
  if (failed.length > 0) throw new Error(failed.map((result) => `${result.module}_${year}: ${result.error}`).join('; '));
  return results;
}

/** The modules of a tenant's year still to make (PENDING or FAILED rows): what a generation job does. */
export async function pendingModules(central: Pick<pg.Pool, 'query'>, tenantId: string, year: number): Promise<ClusterModule[]> {
  const { rows } = await central.query<{ module: ClusterModule }>(
    "SELECT module FROM cluster_schemas WHERE tenant_id = $1 AND year = $2 AND status <> 'READY' ORDER BY module",
    [tenantId, year],
  );
  return rows.map((row) => row.module);
}

async function setStatus(central: Pick<pg.Pool, 'query'>, tenantId: string, module: ClusterModule, year: number, status: ClusterStatus, error: string | null) {
  await central.query(
    `UPDATE cluster_schemas SET status = $4, error = $5, updated_at = now(), attempts = attempts + CASE WHEN $4 = 'CREATING' THEN 1 ELSE 0 END
      WHERE tenant_id = $1 AND module = $2 AND year = $3`,
    [tenantId, module, year, status, error],
  );
}

/** Live TENANTs at or below `rootId` (any level): the tenant itself, or every clinic of a group or app. */
export async function clusterTenantsUnder(central: Pick<pg.Pool, 'query'>, rootId: string): Promise<FleetTenant[]> {
  const { rows } = await central.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [rootId]);
  if (!rows[0]) return [];
  return selectFleetTenants(central, { slugs: [rows[0].slug], level: 'CLUSTER' });
}

/** Cluster schema rows of every TENANT at or below `rootId`, by tenant, year and module. */
export async function listClusterSchemas(central: Pick<pg.Pool, 'query'>, rootId: string): Promise<ClusterSchemaRow[]> {
  const { rows } = await central.query<ClusterSchemaRow>(
    `WITH RECURSIVE subtree AS (
       SELECT id FROM tenants WHERE id = $1
       UNION SELECT c.id FROM tenants c JOIN subtree s ON c.parent_id = s.id
     )
     SELECT c.tenant_id AS "tenantId", t.slug AS "tenantSlug", c.module, c.year, c.status, c.error, c.created_at AS "createdAt", c.updated_at AS "updatedAt"
       FROM cluster_schemas c JOIN subtree s ON s.id = c.tenant_id JOIN tenants t ON t.id = c.tenant_id
      ORDER BY t.slug, c.year DESC, c.module
      LIMIT 5000`,
    [rootId],
  );
  return rows;
}

/** Whether `ancestorId` is `tenantId` or one of its ancestors. */
export async function isWithin(central: Pick<pg.Pool, 'query'>, ancestorId: string, tenantId: string): Promise<boolean> {
  const { rows } = await central.query(
    `WITH RECURSIVE up AS (
       SELECT id, parent_id FROM tenants WHERE id = $1
       UNION SELECT t.id, t.parent_id FROM tenants t JOIN up ON t.id = up.parent_id
     ) SELECT 1 FROM up WHERE id = $2`,
    [tenantId, ancestorId],
  );
  return rows.length > 0;
}

/** Live TENANTs without every plan module READY for `year`: what the yearly job still has to do. */
export async function tenantsNotReady(tenancy: Tenancy, year: number, within?: string): Promise<FleetTenant[]> {
  const tenants = within ? await clusterTenantsUnder(tenancy.central, within) : await selectFleetTenants(tenancy.central, { level: 'CLUSTER' });
  const { rows } = await tenancy.central.query<{ tenant_id: string; module: string }>(
    "SELECT tenant_id, module FROM cluster_schemas WHERE year = $1 AND status = 'READY'",
    [year],
  );
  const ready = new Map<string, Set<string>>();
  for (const row of rows) ready.set(row.tenant_id, (ready.get(row.tenant_id) ?? new Set()).add(row.module));
  const out: FleetTenant[] = [];
  for (const tenant of tenants) {
    const modules = await modulesFor(tenancy, tenant.id);
    if (modules.some((module) => !ready.get(tenant.id)?.has(module))) out.push(tenant);
  }
  return out;
}

/**
 * The yearly step: from `from` (month and day, UTC; default 1 December) on, makes next year's
 * schemas for every live tenant not yet ready. Run daily, it retries failures daily; before `from`
 * it does nothing. `now` is injected so tests can stand on any date.
 */
export async function prepareNextYear(
  tenancy: Tenancy,
  options: { now: Date; from: { month: number; day: number }; parallel: number; /** Only tenants at or below this id. */ within?: string },
): Promise<{ due: false } | { due: true; year: number; attempted: number; failed: { slug: string; error: string }[] }> {
  const { now, from } = options;
  const start = Date.UTC(now.getUTCFullYear(), from.month - 1, from.day);
  if (now.getTime() < start) return { due: false };
  const year = now.getUTCFullYear() + 1;
  const tenants = await tenantsNotReady(tenancy, year, options.within);
  const failed: { slug: string; error: string }[] = [];
  await mapLimit(tenants, options.parallel, async (tenant) => {
    await generateForTenant(tenancy, tenant, year).catch((error: unknown) => {
      failed.push({ slug: tenant.slug, error: error instanceof Error ? error.message : String(error) });
    });
  });
  return { due: true, year, attempted: tenants.length, failed };
}
