/**
 * The runtime: everything a tenantgraph process opens — central database (embedded or external)
 * and its migrations, Redis, tenancy services, tenant files, access-token keys, the tenant scopes
 * — opened in one place and closed in reverse. The HTTP server (app.ts), every CLI command and the
 * job worker are thin shells over it.
 */
import { purgeDeletedJob } from './tenancy/lifecycle/purge-deleted.js';
import { provisionTenantJob } from './tenancy/provisioning/provisioning-job.js';
import { createAuthServices, type AuthOptions, type AuthServices } from './auth/auth-services.js';
import { appJobs } from './app-jobs.js';
import { type Config } from './config.js';
import { openTenantCacheStore, type TenantCacheStore } from './infra/cache/index.js';
import { openCentralDatabase, type CentralDatabase } from './infra/central-database.js';
import { openJobQueue, type AnyJobDefinition, type JobQueue } from './infra/jobs/index.js';
import { type Logger } from './infra/logger.js';
import { closeRedis, openRedis, type RedisClient } from './infra/redis.js';
import { Releasers } from './infra/releasers.js';
import { makeLocalTenantFileStore, type TenantFileStore } from './infra/storage/tenant-files.js';
import { createMetrics, type AppMetrics } from './observability/metrics.js';
import { watchThresholds } from './observability/thresholds.js';
import { makeReadinessCheck } from './readiness.js';
import { makeSeederRunner } from './seeders/run-seeders.js';
import {
  cacheBootstrapper,
  databaseBootstrapper,
  filesBootstrapper,
  loggerBootstrapper,
  makeTenantScopes,
  type Readiness,
  type ScopeServices,
  type TenantContext,
  type TenantScopes,
} from './tenancy/bootstrappers/index.js';
import { findDeletedTenants } from './tenancy/deleted-tenants.js';
import { openTenancyEvents, type TenancyEvents } from './tenancy/events/index.js';
import { type AccessTokenKeys } from './tenancy/identification/access-tokens.js';
import { loadAccessTokenKeys } from './tenancy/identification/jwt-secret.js';
import { makeTenancyAdministration } from './tenancy/administration.js';
import { httpDomainProbe, type DomainProbe } from './tenancy/domains/domain-probe.js';
import { makeTenantDomains } from './tenancy/domains/tenant-domains.js';
import { centralMigrationTarget } from './tenancy/migration-targets.js';
import { migrate } from './tenancy/migrator/index.js';
import { createTenancy, type Tenancy } from './tenancy/tenancy.js';
import { clusterPrepareNextYearJob, makeClusterSchemaService } from './tenancy/clusters/cluster-service.js';
import { makeFleetMigrationService } from './tenancy/fleet/fleet-migration-service.js';
import { version } from './version.js';

export type Runtime = {
  config: Config;
  logger: Logger;
  central: CentralDatabase;
  /** Unset without REDIS_URL. */
  redis: RedisClient | undefined;
  /** Tenancy services with the admin (DDL) pool: for provisioning, migrations, jobs and the CLI only. */
  tenancy: Tenancy;
  /** Tenancy events: in process, and to every other process over Redis pub/sub. */
  events: TenancyEvents;
  /** Per-tenant caches (Redis, else in process). */
  cache: TenantCacheStore;
  files: TenantFileStore;
  /** The one way into a tenant's context: `enter` for HTTP requests, `runInTenant` for the rest. */
  scopes: TenantScopes;
  /** Read-only services every scope gets (never the admin pool). */
  services: ScopeServices;
  tokens: AccessTokenKeys;
  /** Sign-in, API tokens, impersonation, members and the audit log (central tables). */
  auth: AuthServices;
  /** Prometheus metrics (/metrics) and the hooks provisioning, migrations and jobs report to. */
  metrics: AppMetrics;
  /** Durable jobs (src/infra/jobs); the worker runs in this process when opened with `worker: true`. */
  jobs: JobQueue<TenantContext>;
  readiness(): Promise<Readiness>;
  /** Registers a cleanup that runs before everything opened here is closed (e.g. the HTTP server). */
  onClose(name: string, release: () => Promise<void> | void): void;
  /** Closes everything, newest first. Safe to call twice. */
  close(): Promise<void>;
};

export type RuntimeOptions = {
  /** Apply pending central migrations. Default MIGRATE_ON_START (true). */
  migrate?: boolean;
  /** Say at start-up when Redis is missing (the server does; short CLI commands need not). Default true. */
  announceRedis?: boolean;
  /** Sign-in knobs for tests: an injected clock, the throttle's Redis key prefix and per-IP limit. */
  auth?: Pick<AuthOptions, 'clock' | 'throttleKeyPrefix' | 'maxFailuresPerIp'> | undefined;
  /** Run the job worker in this process. Default false; the server passes WORKER, `tenantgraph worker` true. */
  worker?: boolean;
  /** Job definitions to register (and run, with `worker`). Default the app's (src/app-jobs.ts). */
  jobs?: readonly AnyJobDefinition<TenantContext>[];
  /** How the domain verification check fetches a domain's token. Default: plain HTTP to the domain, port 80. */
  domainProbe?: DomainProbe;
};

export async function openRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const releasers = new Releasers();
  const releaseAll = () => releasers.releaseAll((name, error) => logger.error({ err: error, resource: name }, 'cleanup failed'));
  try {
    const central = await openCentralDatabase(config, logger);
    if (central.embedded?.startedHere) releasers.add('embedded postgres', () => central.embedded!.stop());
    releasers.add('central database', () => central.close());

    const centralTarget = await centralMigrationTarget(config.migrationsDir);
    if (options.migrate ?? config.migrateOnStart) {
      const result = await migrate(central.pool, centralTarget, (file, ms) => logger.info({ file, ms }, 'applied central migration'));
      logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'central migrations current');
    }

    let redis: RedisClient | undefined;
    if (config.redisUrl) {
      redis = openRedis(config.redisUrl, logger);
      releasers.add('redis', () => closeRedis(redis!));
    } else if (options.announceRedis ?? true) {
      logger.info('No REDIS_URL: tenant lookups are cached in this process only; run one process, or set REDIS_URL');
    }

    const events = await openTenancyEvents({ redis, logger });
    releasers.add('tenancy events', () => events.close());
    const cache = openTenantCacheStore({ redis, events, logger });
    releasers.add('tenant cache', () => cache.close());
    const tenancy = await createTenancy({ config, logger, central, redis, events });
    releasers.add('tenancy', () => tenancy.close());

    const fleetMigrations = makeFleetMigrationService(tenancy);
    releasers.add('fleet migrations', () => fleetMigrations.close());
    // Jobs are opened below; the service reaches them only when a request or job runs.
    const opened: { jobs?: JobQueue<TenantContext> } = {};
    const clusterSchemas = makeClusterSchemaService(tenancy, () => {
      if (!opened.jobs) throw new Error('job queue not open yet');
      return opened.jobs;
    });
    const registryMetrics = () => tenancy.registry.metrics();
    const metrics = createMetrics({ registryMetrics, tenantLabels: config.metrics.tenantLabels });
    const thresholds = watchThresholds({ logger, metrics, registryMetrics, limits: { ...config.metrics, maxConnections: config.registry.maxConnections } });
    releasers.add('threshold checks', () => thresholds.stop());

    // Opened after tenancy, so it is closed before it: draining jobs still have their tenant handles.
    // Jobs enter their tenant through `scopes`, made below; nothing runs before startWorker.
    const worker = options.worker ?? false;
    const jobDefinitions = options.jobs ?? appJobs;
    const jobs = await openJobQueue<TenantContext>({
      connectionString: central.url,
      logger,
      runInTenant: (tenantId, principal, fn) => scopes.runInTenant(tenantId, principal, fn),
      runCentral: (principal, fn) => scopes.runCentral(principal, fn),
      findDeletedTenants: (ids) => findDeletedTenants(central.pool, ids),
      maintenance: worker,
    });
    releasers.add('jobs', () => jobs.close());
    await jobs.register(jobDefinitions);
    opened.jobs = jobs;

    const files = makeLocalTenantFileStore(config.storageDir);
    // Redis is optional at run time: while it is down, readiness says degraded (200), not not-ready.
    const readiness = makeReadinessCheck(central.pool, centralTarget, [() => cache.health()]);
    const tokens = await loadAccessTokenKeys(config);
    const auth = await createAuthServices({ config, pool: central.pool, keys: tokens, keyRing: tenancy.keyRing, directory: tenancy.directory, logger, redis, ...options.auth });
    const services: ScopeServices = {
      version,
      readiness,
      auth,
      metrics,
      planModules: (tenantId) => tenancy.planModules(tenantId),
      planState: (tenantId) => tenancy.planState(tenantId),
      clusterExists: (record, module, year) => tenancy.clusterExists(record, module, year),
      clusterYearsMin: config.tenancy.clusterYearsMin,
      fleetMigrations,
      clusterSchemas,
      // `scopes` is made below; provisioning runs a plan's seeders only once the runtime is open.
      administration: makeTenancyAdministration(
        tenancy,
        files,
        cache,
        (tenantId, seeders) => makeSeederRunner(scopes)(tenantId, seeders),
        makeTenantDomains({ tenancy, jobs: () => jobs, probe: options.domainProbe ?? httpDomainProbe() }),
        () => jobs,
      ),
      jobs,
    };
    const scopes: TenantScopes = makeTenantScopes({
      directory: tenancy.directory,
      bootstrappers: {
        db: databaseBootstrapper(tenancy),
        cache: cacheBootstrapper(cache),
        files: filesBootstrapper(files),
        logger: loggerBootstrapper(logger),
      },
      services,
      onReleaseError: (resource, error) => logger.error({ err: error, resource }, 'releasing a tenant scope handle failed'),
    });
    // Closed before the job queue (releasers run newest first): background provisionings finish first.
    releasers.add('provisioning', () => services.administration.provisioning.close());
    if (worker) await jobs.startWorker(jobDefinitions, { concurrency: config.jobs.concurrency, pollIntervalMs: config.jobs.pollIntervalMs });
    // Provisionings and hard deletes a dead process left: taken over now and every PROVISIONING_RECOVERY_INTERVAL_MS.
    if (worker && jobDefinitions.includes(provisionTenantJob)) services.administration.provisioning.startWorking();
    // The yearly cluster step, daily: next year's schemas from CLUSTER_PREPARE_FROM on (src/tenancy/clusters/cluster-service.ts).
    if (worker && config.tenancy.clusterPrepareCron && jobDefinitions.includes(clusterPrepareNextYearJob)) {
      await jobs.schedule(clusterPrepareNextYearJob, config.tenancy.clusterPrepareCron);
    }
    // Soft deletes past TENANT_DELETE_GRACE_DAYS, daily (src/tenancy/lifecycle/purge-deleted.ts).
    if (worker && config.tenancy.purgeCron && jobDefinitions.includes(purgeDeletedJob)) {
      await jobs.schedule(purgeDeletedJob, config.tenancy.purgeCron);
    }

    let closing: Promise<void> | undefined;
    return {
      config,
      logger,
      central,
      redis,
      tenancy,
      events,
      cache,
      files,
      scopes,
      services,
      tokens,
      auth,
      jobs,
      metrics,
      readiness,
      onClose: (name, release) => releasers.add(name, release),
      close: () => (closing ??= releaseAll()),
    };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}
