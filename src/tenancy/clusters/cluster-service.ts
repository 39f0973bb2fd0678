/**
 * Cluster schema generation inside the server process, for the generateClusterSchemas mutation and
 * the clusterSchemas query. Requests are recorded PENDING in `cluster_schemas` at once (idempotent:
 * READY rows stay READY) and made in the background of this process, a few tenants at a time. Not a
 * durable job yet (src/infra/jobs had not landed): a request cut short by a restart stays PENDING
 * and is picked up by the next request, `tenantgraph clusters:generate` or the yearly step.
 */
import { mapLimit } from '../../infra/map-limit.js';
import { type ClusterModule } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { clusterTenantsUnder, generateForTenant, isWithin, listClusterSchemas, modulesFor, requestClusterSchemas, type ClusterSchemaRow } from './cluster-generation.js';

export type ClusterSchemaService = {
  /** Whether a user acting for `principalTenantId` (an admin there) may manage `tenantId` (itself or below). */
  isWithin(principalTenantId: string, tenantId: string): Promise<boolean>;
  /** Records PENDING rows for every clinic at or below `tenantId` and starts making them; returns the rows as they stand. Undefined: no such tenant. */
  generate(tenantId: string, year: number, modules: readonly ClusterModule[] | null): Promise<ClusterSchemaRow[] | undefined>;
  list(tenantId: string): Promise<ClusterSchemaRow[]>;
  close(): Promise<void>;
};

export function makeClusterSchemaService(tenancy: Tenancy): ClusterSchemaService {
  let closing = false;
  const inFlight = new Set<Promise<unknown>>();
  return {
    isWithin: (principalTenantId, tenantId) => isWithin(tenancy.central, principalTenantId, tenantId),
    async generate(tenantId, year, modules) {
      const exists = await tenancy.central.query('SELECT 1 FROM tenants WHERE id = $1 AND deleted_at IS NULL', [tenantId]);
      if (exists.rowCount === 0) return undefined;
      const tenants = await clusterTenantsUnder(tenancy.central, tenantId);
      for (const tenant of tenants) await requestClusterSchemas(tenancy.central, tenant.id, year, await modulesFor(tenancy, tenant.id, modules));
      if (!closing && tenants.length > 0) {
        const work = mapLimit(tenants, 4, async (tenant) => {
          if (closing) return;
          // A failure is recorded on the tenant's rows (FAILED, with the error).
          await generateForTenant(tenancy, tenant, year, modules).catch((error: unknown) =>
            tenancy.logger.warn({ err: error, tenantId: tenant.id, year }, 'cluster schema generation failed'),
          );
        }).finally(() => inFlight.delete(work));
        inFlight.add(work);
      }
      return listClusterSchemas(tenancy.central, tenantId);
    },
    list: (tenantId) => listClusterSchemas(tenancy.central, tenantId),
    async close() {
      closing = true;
      await Promise.all(inFlight);
    },
  };
}
