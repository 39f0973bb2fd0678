/** The provisioning job (payload: the tenant id, nothing secret): drives the tenant's latest attempt. */
import { defineCentralJob } from '../../infra/jobs/index.js';
import { type TenantContext } from '../bootstrappers/index.js';
import { PROVISION_JOB } from './provisioning-service.js';

export const provisionTenantJob = defineCentralJob<{ tenantId: string }, TenantContext>(
  PROVISION_JOB,
  async (payload, ctx) => {
    // 'busy': another process holds the attempt (a kick, recovery); it finishes it, or recovery does when it dies.
    await ctx.services.administration.provisioning.drive(payload.tenantId);
  },
  // A failed step is recorded on the run and undone, not retried: retryProvisioning starts again.
  // Retries here only cover a worker that died before it took the run's lock.
  { retryLimit: 2, retryDelaySeconds: 5, expireInSeconds: 600 },
);
