import { ConfigError, loadConfig, type Config } from '../config.js';
import { openCentralDatabase, type CentralDatabase } from '../infra/central-database.js';
import { makeLogger, type Logger } from '../infra/logger.js';

export type CliRuntime = { config: Config; logger: Logger; central: CentralDatabase };

/**
 * Runs a command body with configuration and the central database open, closing them after.
 * Errors print one line to stderr and set exit code 1 (with --json, a JSON object instead).
 */
export async function withCentral(options: { json?: boolean }, body: (runtime: CliRuntime) => Promise<void>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error, options.json);
    return;
  }
  // CLI logs go to stderr so stdout stays clean for --json and token output.
  const logger = makeLogger(options.json ? 'warn' : config.log.level === 'info' ? 'warn' : config.log.level);
  let central: CentralDatabase | undefined;
  try {
    central = await openCentralDatabase(config, logger);
    await body({ config, logger, central });
  } catch (error) {
    fail(error, options.json);
  } finally {
    await central?.close().catch(() => {});
    if (central?.embedded?.startedHere) await central.embedded.stop();
  }
}

function fail(error: unknown, json: boolean | undefined) {
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message, kind: error instanceof ConfigError ? 'config' : 'runtime' })}\n`);
  else process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = 1;
}
