import pino from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { makeLogger } from '../infra/logger.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { UsageError } from './tenant-selection.js';

/** Exit codes every command keeps: scripts switch on them. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs a command body on the runtime (the same one the server opens), closing it after.
 * Errors print one line to stderr and set exit code 1 (with --json, a JSON object on stdout instead).
 * CLI logs go to stderr at `warn` unless LOG_LEVEL asks for more, so stdout stays clean for --json.
 */
export async function withRuntime(options: { json?: boolean } & RuntimeOptions, body: (runtime: Runtime) => Promise<void>): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error, options.json);
    return;
  }
  // Synchronous writes to fd 2: a line logged just before exit is not lost, and stdout carries only results.
  const logger = makeLogger(options.json ? 'warn' : config.log.level === 'info' ? 'warn' : config.log.level, 'tenantgraph', {
    destination: pino.destination({ dest: 2, sync: true }),
  });
  let runtime: Runtime | undefined;
  try {
    runtime = await openRuntime(config, logger, { migrate: options.migrate ?? false, announceRedis: false });
    await body(runtime);
  } catch (error) {
    fail(error, options.json);
  } finally {
    await runtime?.close();
  }
}

function fail(error: unknown, json: boolean | undefined) {
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message, kind: error instanceof ConfigError ? 'config' : 'runtime' })}\n`);
  else process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = EXIT.failed;
}

/** Runs `fn`; a UsageError becomes exit code 2 with its message on stderr, and undefined. */
export async function usage<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tenantgraph: ${error.message}\n`);
    process.exitCode = EXIT.usage;
    return undefined;
  }
}
