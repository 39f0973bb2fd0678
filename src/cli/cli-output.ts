/**
 * Output and exit codes shared by the administration commands (servers:*, keys:*, tenants:*):
 * a table or one JSON object on stdout, problems on stderr, and the exit code scripts switch on.
 */
import { AppError, ErrorCode } from '../errors/index.js';
import { EXIT } from './cli-runtime.js';
import { UsageError } from './tenant-selection.js';

/** Bad input is bad usage (2); anything else that went wrong is a failure (1). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof AppError && error.code === ErrorCode.BAD_USER_INPUT && error.extensions.field !== 'connection') return EXIT.usage;
  return EXIT.failed;
}

/** Reports an error of a command body and sets the exit code; rethrows nothing. */
export function reportFailure(error: unknown, json: boolean | undefined): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof AppError ? error.code : undefined;
  const field = error instanceof AppError ? error.extensions.field : undefined;
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message, ...(code ? { code } : {}), ...(field ? { field } : {}) })}\n`);
  else process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = exitCodeFor(error);
}

/** Runs a command body, turning its errors into a message and an exit code. */
export async function reporting(json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    reportFailure(error, json);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Reads all of stdin (for `--password-stdin`), without its final newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
