/**
 * What GraphQL administration (system admins, ancestors' admins) may ask of the tenancy, as a
 * narrow service on ScopeServices: resolvers never hold the admin pool or the key ring itself.
 */
import { type TenantCacheStore } from '../infra/cache/index.js';
import { type TenantFileStore } from '../infra/storage/tenant-files.js';
import { createTenant, type CreatedTenant, type CreateTenantInput, type SeederRunner } from './lifecycle/create-tenant.js';
import { makeProvisioningService, type ProvisioningService } from './provisioning/provisioning-service.js';
import { type JobQueue } from '../infra/jobs/index.js';
import { makeTenantLifecycle, type LifecycleActor, type TenantLifecycle } from './lifecycle/tenant-lifecycle.js';
import { rotateStoredSecrets, type RotationReport } from './secrets/rotate-secrets.js';
import { type AddDbServerInput, type DbServerInfo } from './servers/db-servers.js';
import { type Tenancy } from './tenancy.js';
import { makePlanService, type PlanService } from './plans/plans.js';
import { type TenantDomains } from './domains/tenant-domains.js';
import { purgeExpiredDeletions, type PurgeCandidate, type PurgeReport } from './lifecycle/purge-deleted.js';

export type TenancyAdministration = {
  listDbServers(): Promise<DbServerInfo[]>;
  addDbServer(input: AddDbServerInput): Promise<DbServerInfo>;
  rotateEncryptionKeys(): Promise<RotationReport>;
  /** Suspend, resume, maintenance, soft and hard delete, restore; checks the actor's subtree itself. */
  lifecycle: TenantLifecycle;
  /** Validates, writes the row and queues its provisioning; the tenant answers PROVISIONING. The first admin's invitation token is in this answer only. */
  createTenant(actor: LifecycleActor, input: CreateTenantInput): Promise<CreatedTenant>;
  /** The provisioning job's engine: drive, retry, progress, recovery after a crash. */
  provisioning: ProvisioningService;
  /** Plans, a tenant's plan and subscription, module switches; checks the actor's subtree itself. */
  plans: PlanService;
  /** Custom domains: add, verify, primary, remove; checks the actor's subtree itself. */
  domains: TenantDomains;
  /** Hard-deletes soft-deleted tenants past TENANT_DELETE_GRACE_DAYS (the daily purge job). */
  purgeExpiredDeletions(options?: { onTenant?: (candidate: PurgeCandidate, outcome: 'purged' | 'failed') => void }): Promise<PurgeReport>;
};

export function makeTenancyAdministration(
  tenancy: Tenancy,
  files: Pick<TenantFileStore, 'removeTenant'>,
  cache: Pick<TenantCacheStore, 'flushTenant'>,
  runSeeders: SeederRunner | undefined,
  domains: TenantDomains,
  jobs: () => Pick<JobQueue<unknown>, 'enqueueCentral'>,
): TenancyAdministration {
  const graceDays = tenancy.config.tenancy.deleteGraceDays;
  const lifecycle = makeTenantLifecycle({ tenancy, files, cache, graceDays });
  const provisioning = makeProvisioningService({ tenancy, runSeeders, jobs, lifecycle });
  return {
    domains,
    provisioning,
    createTenant: (actor, input) => createTenant(tenancy, provisioning, actor, input),
    lifecycle,
    purgeExpiredDeletions: (options = {}) => purgeExpiredDeletions({ central: tenancy.central, lifecycle, graceDays, logger: tenancy.logger, onTenant: options.onTenant }),
    plans: makePlanService(tenancy),
    listDbServers: () => tenancy.servers.list(),
    addDbServer: (input) => tenancy.servers.add(input),
    async rotateEncryptionKeys() {
      const report = await rotateStoredSecrets(tenancy.central, tenancy.keyRing);
      tenancy.logger.info({ keyId: report.keyId, rotated: report.rotated, current: report.current, failed: report.failures.length }, 'stored secrets re-encrypted');
      return report;
    },
  };
}
