/**
 * Every job the app defines. `npm start` and `tenantgraph worker` register these queues and run
 * them; add a definition here when a feature gets a job (defineTenantJob / defineCentralJob).
 */
import { type AnyJobDefinition } from './infra/jobs/index.js';
import { type TenantContext } from './tenancy/bootstrappers/index.js';
import { clusterGenerateJob, clusterPrepareNextYearJob } from './tenancy/clusters/cluster-service.js';
import { domainVerifyJob } from './tenancy/domains/domain-jobs.js';
import { purgeDeletedJob } from './tenancy/lifecycle/purge-deleted.js';
import { provisionTenantJob } from './tenancy/provisioning/provisioning-job.js';

export const appJobs: readonly AnyJobDefinition<TenantContext>[] = [clusterGenerateJob, clusterPrepareNextYearJob, domainVerifyJob, purgeDeletedJob, provisionTenantJob];
