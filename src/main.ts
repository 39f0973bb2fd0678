/**
 * `npm start`: configuration → database → migrations → server → listen; SIGTERM/SIGINT drain and
 * close everything. Any start-up failure prints one clear line and exits 1.
 */
import { ConfigError, loadConfig } from './config.js';
import { startApp } from './app.js';
import { makeLogger } from './infra/logger.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // Pretty only for a person at a terminal in development; JSON for everything that collects logs.
  const logger = makeLogger(config.log.level, 'tenantgraph', { pretty: config.env === 'development' && process.stdout.isTTY === true });
  let app;
  try {
    app = await startApp(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'start-up failed');
    process.exitCode = 1;
    return;
  }
  const shown = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
  logger.info(
    { port: app.port },
    `tenantgraph ${config.graphql.sandbox ? 'serves Apollo Sandbox' : 'listens'} at http://${shown}:${app.port}/graphql` +
      (config.explorer.graphiql ? ` (GraphiQL, also offline: http://${shown}:${app.port}/graphiql)` : ''),
  );

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs + 5_000);
    force.unref();
    void app.stop().then(() => {
      logger.info('stopped');
      clearTimeout(force);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await main();
