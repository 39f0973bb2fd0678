/**
 * INTERIM: how a job enters its tenant until the runtime's `runInTenant` (issue 8, bootstrappers)
 * replaces it. Resolves the tenant chain through the directory, leases database handles exactly as
 * a request does (RequestDatabases), and releases them when the job's function settles.
 */
import { type Logger } from '../infra/logger.js';
import { type RunInTenant, type SystemPrincipal } from '../infra/jobs/index.js';
import { chainTarget, type TenantChain } from '../tenancy/identification/identification-types.js';
import { type Tenancy } from '../tenancy/tenancy.js';
import { RequestDatabases } from './request-databases.js';

/** What a tenant job's handler receives. */
export type JobTenantContext = {
  scope: TenantChain;
  principal: SystemPrincipal;
  db: RequestDatabases;
  logger: Logger;
};

export function makeJobRunInTenant(tenancy: Pick<Tenancy, 'directory'> & ConstructorParameters<typeof RequestDatabases>[0], logger: Logger): RunInTenant<JobTenantContext> {
  return async (tenantId, principal, fn) => {
    const scope = await tenancy.directory.findById(tenantId);
    if (!scope) throw new Error(`tenant ${tenantId} not found`);
    const target = chainTarget(scope);
    const db = new RequestDatabases(tenancy, scope);
    try {
      return await fn({ scope, principal, db, logger: logger.child({ tenantId: target.id, tenant: target.slug, level: scope.level, actor: principal.actor }) });
    } finally {
      db.release();
    }
  };
}
