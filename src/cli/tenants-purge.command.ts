/**
 * `tenantgraph tenants:purge-deleted [--dry-run] [--json]`: what the daily purge job does, by hand —
 * hard-deletes soft-deleted tenants whose TENANT_DELETE_GRACE_DAYS have passed (children first).
 * `--dry-run` lists them and changes nothing. Exit 0 done (or nothing to do), 1 some failed.
 */
import { type Command } from 'commander';
import { expiredDeletions } from '../tenancy/lifecycle/purge-deleted.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';

export function registerTenantsPurgeCommand(program: Command): void {
  program
    .command('tenants:purge-deleted')
    .description('Hard-delete soft-deleted tenants past TENANT_DELETE_GRACE_DAYS (what the daily job does).')
    .option('--dry-run', 'list them; change nothing')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const graceDays = runtime.config.tenancy.deleteGraceDays;
          if (options.dryRun) {
            const due = await expiredDeletions(runtime.central.pool, graceDays);
            if (options.json) return printJson({ ok: true, dryRun: true, graceDays, due });
            for (const tenant of due) process.stdout.write(`  would purge ${tenant.level} ${tenant.slug} (deleted ${tenant.deletedAt.toISOString()})\n`);
            process.stdout.write(`tenants:purge-deleted: ${due.length} tenant(s) past the ${graceDays}-day grace period; nothing changed (--dry-run)\n`);
            return;
          }
          const report = await runtime.services.administration.purgeExpiredDeletions({
            onTenant: options.json ? undefined : (tenant, outcome) => void process.stderr.write(`  ${outcome === 'purged' ? 'purged' : 'FAILED'} ${tenant.level} ${tenant.slug}\n`),
          });
          if (report.failed.length > 0) process.exitCode = EXIT.failed;
          if (options.json) return printJson({ ok: report.failed.length === 0, graceDays, ...report });
          for (const failure of report.failed) process.stdout.write(`  FAILED ${failure.slug}: ${failure.reason}\n`);
          process.stdout.write(`tenants:purge-deleted: ${report.purged.length} purged, ${report.failed.length} failed (grace ${graceDays} days)\n`);
        }),
      );
    });
}
