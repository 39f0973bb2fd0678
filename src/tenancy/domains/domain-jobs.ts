/** The domain verification check as a durable central job (payload: the domain's id, nothing secret). */
import { defineCentralJob } from '../../infra/jobs/index.js';
import { type TenantContext } from '../bootstrappers/index.js';
import { DOMAIN_VERIFY_JOB } from './tenant-domains.js';

export const domainVerifyJob = defineCentralJob<{ domainId: string }, TenantContext>(
  DOMAIN_VERIFY_JOB,
  async (payload, ctx) => {
    await ctx.services.administration.domains.runCheck(payload.domainId);
  },
  // A failed check is recorded on the row, not retried: the tenant fixes its host and asks again.
  { retryLimit: 1, expireInSeconds: 60 },
);
