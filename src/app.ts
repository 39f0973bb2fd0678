/**
 * Assembles a running tenantgraph: central database (embedded or external), migrations, schema,
 * HTTP server. main.ts adds signals and exit codes; tests call this with port 0.
 */
import { type Config } from './config.js';
import { centralMigrationTarget, openCentralDatabase, type CentralDatabase } from './infra/central-database.js';
import { type Logger } from './infra/logger.js';
import { makeReadinessCheck } from './infra/readiness.js';
import { Releasers } from './infra/releasers.js';
import { makeSchema } from './schema.js';
import { makeServer, type TenantgraphServer } from './server.js';
import { migrate } from './tenancy/migrator/index.js';
import { version } from './version.js';

export type RunningApp = {
  server: TenantgraphServer;
  central: CentralDatabase;
  port: number;
  /** Drains HTTP, then closes everything opened, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
};

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
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

    const schema = await makeSchema();
    const server = await makeServer({
      config,
      logger,
      schema,
      services: { version, readiness: makeReadinessCheck(central.pool, centralTarget) },
    });
    releasers.add('http server', () => server.close());
    const port = await server.listen(config.http.port, config.http.host);

    let stopping: Promise<void> | undefined;
    return { server, central, port, stop: () => (stopping ??= releaseAll()) };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}
