/**
 * Assembles a running tenantgraph: central database (embedded or external), migrations, Redis,
 * tenancy (registry, directory, storage), demo data, schema, HTTP server. main.ts adds signals and
 * exit codes; tests call this with port 0.
 */
import { type GraphQLSchema } from 'graphql';
import { type Config } from './config.js';
import { centralMigrationTarget, openCentralDatabase, type CentralDatabase } from './infra/central-database.js';
import { type Logger } from './infra/logger.js';
import { makeReadinessCheck } from './infra/readiness.js';
import { createMetrics, type AppMetrics } from './observability/metrics.js';
import { watchThresholds } from './observability/thresholds.js';
import { closeRedis, openRedis, type RedisClient } from './infra/redis.js';
import { Releasers } from './infra/releasers.js';
import { makeSchema } from './schema.js';
import { makeServer, type TenantgraphServer } from './server.js';
import { seedDemoData } from './tenancy/demo-data.js';
import { makeIdentifiers } from './tenancy/identification/identify-request.js';
import { type AccessTokenKeys } from './tenancy/identification/access-tokens.js';
import { loadAccessTokenKeys } from './tenancy/identification/jwt-secret.js';
import { migrate } from './tenancy/migrator/index.js';
import { createTenancy, type Tenancy } from './tenancy/tenancy.js';
import { version } from './version.js';

export type RunningApp = {
  server: TenantgraphServer;
  central: CentralDatabase;
  tenancy: Tenancy;
  /** Signs and checks access tokens (the CLI's `token` command mints with the same keys). */
  tokens: AccessTokenKeys;
  /** Prometheus metrics (/metrics) and the hooks provisioning, migrations and jobs report to. */
  metrics: AppMetrics;
  port: number;
  /** Drains HTTP, then closes everything opened, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
};

export type StartOptions = {
  /** Wraps the executable schema, e.g. with extra middleware in tests. Default: none. */
  wrapSchema?: (schema: GraphQLSchema) => GraphQLSchema;
};

export async function startApp(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningApp> {
  const releasers = new Releasers();
  const releaseAll = () => releasers.releaseAll((name, error) => logger.error({ err: error, resource: name }, 'cleanup failed'));
  try {
    const central = await openCentralDatabase(config, logger);
    if (central.embedded?.startedHere) releasers.add('embedded postgres', () => central.embedded!.stop());
    releasers.add('central database', () => central.close());

    const centralTarget = await centralMigrationTarget();
    if (config.migrateOnStart) {
      const result = await migrate(central.pool, centralTarget, (file, ms) => logger.info({ file, ms }, 'applied central migration'));
      logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'central migrations current');
    }

    let redis: RedisClient | undefined;
    if (config.redisUrl) {
      redis = openRedis(config.redisUrl, logger);
      releasers.add('redis', () => closeRedis(redis!));
    } else {
      logger.info('No REDIS_URL: tenant lookups are cached in this process only; run one process, or set REDIS_URL');
    }

    const tenancy = await createTenancy({ config, logger, central, redis });
    releasers.add('tenancy', () => tenancy.close());

    const registryMetrics = () => tenancy.registry.metrics();
    const metrics = createMetrics({ registryMetrics, tenantLabels: config.metrics.tenantLabels });
    const thresholds = watchThresholds({
      logger,
      metrics,
      registryMetrics,
      limits: { ...config.metrics, maxConnections: config.registry.maxConnections },
    });
    releasers.add('threshold checks', () => thresholds.stop());

    if (config.tenancy.demoData) {
      const demo = await seedDemoData(tenancy);
      if (demo.created) {
        logger.info(
          { clinics: demo.clinics },
          'Created demo data (DEMO_DATA=false turns this off). For Sandbox: `npx tenantgraph token --tenant demo-clinic-a --role admin`, then send the header Authorization: Bearer <token>',
        );
      }
    }

    const schema = options.wrapSchema ? options.wrapSchema(await makeSchema()) : await makeSchema();
    const tokens = await loadAccessTokenKeys(config);
    const server = await makeServer({
      config,
      logger,
      schema,
      context: {
        services: { version, readiness: makeReadinessCheck(central.pool, centralTarget), tenancy, metrics },
        identifiers: makeIdentifiers(config.tenancy),
        tokens,
      },
      metrics,
    });
    releasers.add('http server', () => server.close());
    const port = await server.listen(config.http.port, config.http.host);

    let stopping: Promise<void> | undefined;
    return { server, central, tenancy, tokens, metrics, port, stop: () => (stopping ??= releaseAll()) };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}
