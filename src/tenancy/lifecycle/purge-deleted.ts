/**
 * The end of a soft delete: once TENANT_DELETE_GRACE_DAYS have passed, a soft-deleted tenant can
 * no longer be restored, so its storage, role, files, cache and row go for good — through the same
 * hard delete an admin runs (idempotent, so a purge interrupted midway finishes on the next run).
 * Runs daily as the `tenants.purge-deleted` job (TENANT_PURGE_CRON) and as `tenants:purge-deleted`.
 *
 * Children go before parents (a parent with any child row is refused), so one pass purges a whole
 * deleted branch whose members all passed their grace period.
 */
import type pg from 'pg';
import { defineCentralJob } from '../../infra/jobs/index.js';
import { type Logger } from '../../infra/logger.js';
import { type TenantContext } from '../bootstrappers/index.js';
import { type TenantLifecycle } from './tenant-lifecycle.js';

export const PURGE_DELETED_JOB = 'tenants.purge-deleted';

export type PurgeCandidate = { id: string; slug: string; level: string; deletedAt: Date };
export type PurgeReport = { purged: PurgeCandidate[]; failed: (PurgeCandidate & { reason: string })[] };

/** Soft-deleted tenants past their grace period, deepest level first. */
export async function expiredDeletions(central: Pick<pg.Pool, 'query'>, graceDays: number): Promise<PurgeCandidate[]> {
  const { rows } = await central.query<PurgeCandidate>(
    `SELECT id, slug, level, deleted_at AS "deletedAt" FROM tenants
      WHERE status = 'DELETED' AND deleted_at < now() - make_interval(days => $1::int)
      ORDER BY CASE level WHEN 'TENANT' THEN 0 WHEN 'CENTRAL_TENANT' THEN 1 ELSE 2 END, deleted_at, id`,
    [graceDays],
  );
  return rows;
}

export async function purgeExpiredDeletions(deps: {
  central: Pick<pg.Pool, 'query'>;
  lifecycle: Pick<TenantLifecycle, 'hardDelete'>;
  graceDays: number;
  logger: Logger;
  onTenant?: (candidate: PurgeCandidate, outcome: 'purged' | 'failed') => void;
}): Promise<PurgeReport> {
  const report: PurgeReport = { purged: [], failed: [] };
  for (const candidate of await expiredDeletions(deps.central, deps.graceDays)) {
    try {
      await deps.lifecycle.hardDelete({ kind: 'system' }, candidate.id, candidate.slug);
      report.purged.push(candidate);
      deps.onTenant?.(candidate, 'purged');
    } catch (error) {
      // One tenant's failure (its server down, a child deleted later) does not stop the others.
      const reason = error instanceof Error ? error.message : String(error);
      report.failed.push({ ...candidate, reason });
      deps.logger.error({ err: error, tenantId: candidate.id }, 'purging a soft-deleted tenant failed; the next run tries again');
      deps.onTenant?.(candidate, 'failed');
    }
  }
  if (report.purged.length + report.failed.length > 0) {
    deps.logger.info({ purged: report.purged.length, failed: report.failed.length }, 'soft-deleted tenants past their grace period purged');
  }
  return report;
}

export const purgeDeletedJob = defineCentralJob<undefined, TenantContext>(
  PURGE_DELETED_JOB,
  async (_payload, ctx, job) => {
    const report = await ctx.services.administration.purgeExpiredDeletions();
    if (report.failed.length > 0) job.logger.warn({ failed: report.failed.map((f) => f.id) }, 'some tenants could not be purged');
  },
  { retryLimit: 0, singleton: true, expireInSeconds: 3600 },
);
