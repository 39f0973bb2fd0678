/**
 * A worker-only process (`tenantgraph worker`): central database, Redis, tenancy and the job
 * queue with its worker — no HTTP. Central migrations are the server's job; this refuses to start
 * on a central database with pending ones rather than run jobs against an old schema.
 */
import { appJobs } from './app-jobs.js';
import { openTenantJobQueue } from './app.js';
import { type Config } from './config.js';
import { centralMigrationTarget, openCentralDatabase } from './infra/central-database.js';
import { type AnyJobDefinition } from './infra/jobs/index.js';
import { type Logger } from './infra/logger.js';
import { closeRedis, openRedis, type RedisClient } from './infra/redis.js';
import { Releasers } from './infra/releasers.js';
import { type JobTenantContext } from './context/tenant-job-context.js';
import { readMigrationStatus } from './tenancy/migrator/index.js';
import { createTenancy } from './tenancy/tenancy.js';

export type RunningWorker = {
  /** Stops fetching, waits for running jobs to finish, then closes everything. Safe to call twice. */
  stop(): Promise<void>;
};

export async function startWorker(config: Config, logger: Logger, definitions: readonly AnyJobDefinition<JobTenantContext>[] = appJobs): Promise<RunningWorker> {
  const releasers = new Releasers();
  const releaseAll = () => releasers.releaseAll((name, error) => logger.error({ err: error, resource: name }, 'cleanup failed'));
  try {
    const central = await openCentralDatabase(config, logger);
    if (central.embedded?.startedHere) releasers.add('embedded postgres', () => central.embedded!.stop());
    releasers.add('central database', () => central.close());
    const status = await readMigrationStatus(central.pool, await centralMigrationTarget());
    if (status.pending.length > 0) {
      throw new Error(`the central database has ${status.pending.length} pending migrations; run \`tenantgraph migrate\` (or start the server) first`);
    }

    let redis: RedisClient | undefined;
    if (config.redisUrl) {
      redis = openRedis(config.redisUrl, logger, { name: 'tenantgraph-worker' });
      releasers.add('redis', () => closeRedis(redis!));
    }
    const tenancy = await createTenancy({ config, logger, central, redis });
    releasers.add('tenancy', () => tenancy.close());
    const jobs = await openTenantJobQueue(config, logger, central, tenancy, definitions, true);
    releasers.add('jobs', () => jobs.close());

    let stopping: Promise<void> | undefined;
    return { stop: () => (stopping ??= releaseAll()) };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}
