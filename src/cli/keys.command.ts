/**
 * `tenantgraph keys:rotate [--batch-size n] [--json]`: re-encrypts every stored secret under the
 * newest key of TENANCY_ENCRYPTION_KEYS. Safe to interrupt and rerun. Exit 1 when a secret could
 * not be decrypted (its key is no longer listed): those rows are named, by id, never by content.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { rotateStoredSecrets } from '../tenancy/secrets/rotate-secrets.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';

export function registerKeysCommands(program: Command): void {
  program
    .command('keys:rotate')
    .description('Re-encrypt every stored secret under the newest key of TENANCY_ENCRYPTION_KEYS.')
    .option('--batch-size <n>', 'rows per transaction', parseBatchSize, 100)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { batchSize: number; json?: boolean }) => {
      await withRuntime(options, ({ tenancy }) =>
        reporting(options.json, async () => {
          const report = await rotateStoredSecrets(tenancy.central, tenancy.keyRing, {
            batchSize: options.batchSize,
            onBatch: options.json ? undefined : ({ rotated }) => void process.stderr.write(`  ${rotated} re-encrypted so far\n`),
          });
          if (report.failures.length > 0) process.exitCode = EXIT.failed;
          if (options.json) return printJson({ ok: report.failures.length === 0, ...report });
          process.stdout.write(`keys:rotate: ${report.rotated} re-encrypted, ${report.current} on key ${report.keyId}, ${report.failures.length} failed\n`);
          for (const failure of report.failures) process.stdout.write(`  FAILED ${failure.secret} ${failure.rowId}: ${failure.reason}\n`);
        }),
      );
    });
}

function parseBatchSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
}
