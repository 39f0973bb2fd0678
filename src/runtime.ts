/**
 * The runtime: everything a tenantgraph process opens — central database (embedded or external)
 * and its migrations, Redis, tenancy services, tenant files, access-token keys, the tenant scopes
 * — opened in one place and closed in reverse. The HTTP server (app.ts), every CLI command and the
 * job worker are thin shells over it.
 */
import { type Config } from './config.js';
import { openCentralDatabase, type CentralDatabase } from './infra/central-database.js';
import { type Logger } from './infra/logger.js';
import { closeRedis, openRedis, type RedisClient } from './infra/redis.js';
import { Releasers } from './infra/releasers.js';
import { makeLocalTenantFileStore, type TenantFileStore } from './infra/storage/tenant-files.js';
import { makeReadinessCheck } from './readiness.js';
import {
  cacheBootstrapper,
  databaseBootstrapper,
  filesBootstrapper,
  loggerBootstrapper,
  makeTenantScopes,
  type Readiness,
  type ScopeServices,
  type TenantCacheSource,
  type TenantScopes,
} from './tenancy/bootstrappers/index.js';
import { type AccessTokenKeys } from './tenancy/identification/access-tokens.js';
import { loadAccessTokenKeys } from './tenancy/identification/jwt-secret.js';
import { makeTenancyAdministration } from './tenancy/administration.js';
import { centralMigrationTarget } from './tenancy/migration-targets.js';
import { migrate } from './tenancy/migrator/index.js';
import { createTenancy, type Tenancy } from './tenancy/tenancy.js';
import { version } from './version.js';

export type Runtime = {
  config: Config;
  logger: Logger;
  central: CentralDatabase;
  /** Unset without REDIS_URL. */
  redis: RedisClient | undefined;
  /** Tenancy services with the admin (DDL) pool: for provisioning, migrations, jobs and the CLI only. */
  tenancy: Tenancy;
  files: TenantFileStore;
  /** The one way into a tenant's context: `enter` for HTTP requests, `runInTenant` for the rest. */
  scopes: TenantScopes;
  /** Read-only services every scope gets (never the admin pool). */
  services: ScopeServices;
  tokens: AccessTokenKeys;
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
};

export async function openRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const releasers = new Releasers();
  const releaseAll = () => releasers.releaseAll((name, error) => logger.error({ err: error, resource: name }, 'cleanup failed'));
  try {
    const central = await openCentralDatabase(config, logger);
    if (central.embedded?.startedHere) releasers.add('embedded postgres', () => central.embedded!.stop());
    releasers.add('central database', () => central.close());

    const centralTarget = await centralMigrationTarget();
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

    const tenancy = await createTenancy({ config, logger, central, redis });
    releasers.add('tenancy', () => tenancy.close());

    const files = makeLocalTenantFileStore(config.storageDir);
    const cache: TenantCacheSource = {
      forTenant() {
        throw new Error('tenant cache: not wired yet');
      },
    };
    const readiness = makeReadinessCheck(central.pool, centralTarget);
    const services: ScopeServices = {
      version,
      readiness,
      planModules: (tenantId) => tenancy.planModules(tenantId),
      clusterExists: (record, module, year) => tenancy.clusterExists(record, module, year),
      administration: makeTenancyAdministration(tenancy, files),
    };
    const scopes = makeTenantScopes({
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
    const tokens = await loadAccessTokenKeys(config);

    let closing: Promise<void> | undefined;
    return {
      config,
      logger,
      central,
      redis,
      tenancy,
      files,
      scopes,
      services,
      tokens,
      readiness,
      onClose: (name, release) => releasers.add(name, release),
      close: () => (closing ??= releaseAll()),
    };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}
