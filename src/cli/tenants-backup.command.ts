/**
 * `tenantgraph tenants:backup --tenants a,b|--all [--parallel N] [--json]` and
 * `tenantgraph tenants:restore --tenant s --file f [--drop-old] [--json]` (src/tenancy/backups/).
 * Exit 0 done, 1 failed (the tenant keeps its data), 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { grantTenantStorage } from '../tenancy/isolation/tenant-role.js';
import { type Runtime } from '../runtime.js';
import { backupTenant, restoreTenant, type BackupDeps, type BackupTenant } from '../tenancy/backups/tenant-backups.js';
import { EXIT, usage, withRuntime } from './cli-runtime.js';
import { formatFleetSummary, runFleet } from './fleet.js';
import { parseSlugList, selectTenants, UsageError } from './tenant-selection.js';

export function registerBackupCommands(program: Command): void {
  program
    .command('tenants:backup')
    .description('Back up TENANT storage with pg_dump into storage/backups/<slug>/<UTC timestamp>.dump (+ .sha256, .json).')
    .option('--tenants <slugs>', 'comma-separated tenant slugs', parseSlugList)
    .option('--all', 'every live TENANT')
    .option('--parallel <n>', 'tenants at once', parsePositive, 2)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { tenants?: string[]; all?: boolean; parallel: number; json?: boolean }) => {
      await withRuntime(options, async (runtime) => {
        const tenants = await usage(() => selectTenants(runtime.central.pool, options));
        if (!tenants) return;
        const records = await loadTenants(runtime, tenants.map((tenant) => tenant.slug));
        const summary = await runFleet(records, async (tenant) => backupTenant(await backupDeps(runtime, tenant), tenant), { parallel: options.parallel, quiet: options.json, label: 'tenants:backup' });
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, ...summary })}\n`);
        else {
          for (const item of summary.items) if (item.status === 'done') process.stdout.write(`${item.slug}: ${item.result.file} (${item.result.bytes} bytes, sha256 ${item.result.sha256.slice(0, 12)}…)\n`);
          process.stdout.write(`${formatFleetSummary(summary, 'tenants:backup')}\n`);
        }
        if (summary.failed > 0) process.exitCode = EXIT.failed;
      });
    });

  program
    .command('tenants:restore')
    .description('Restore a backup into new storage, check it, then switch the tenant to it (the old storage is kept unless --drop-old).')
    .requiredOption('--tenant <slug>', 'the tenant to restore')
    .requiredOption('--file <path>', 'a .dump file made by tenants:backup (its .sha256 and .json beside it)')
    .option('--drop-old', 'drop the storage the tenant used before, once switched')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { tenant: string; file: string; dropOld?: boolean; json?: boolean }) => {
      await withRuntime(options, async (runtime) => {
        const records = await usage(() => loadTenants(runtime, [options.tenant]));
        if (!records) return;
        const result = await restoreTenant(await backupDeps(runtime, records[0]!), records[0]!, options.file, { dropOld: options.dropOld ?? false });
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, tenant: options.tenant, ...result })}\n`);
        else process.stdout.write(`${options.tenant}: restored into ${result.switchedTo} in ${result.durationMs} ms${result.keptOld ? `; previous storage kept as ${result.keptOld}` : ''}\n`);
      });
    });
}

/** The tenant's own server (db_servers), and after a restore its role's grants on the new storage (restores carry no privileges). */
async function backupDeps(runtime: Runtime, tenant: LoadedTenant): Promise<BackupDeps> {
  await runtime.tenancy.servers.ensure(tenant.dbServerId);
  const admin = runtime.tenancy.servers.adminFor(tenant.dbServerId);
  return {
    admin,
    storageDir: runtime.config.storageDir,
    async switchStorage(tenantId, names) {
      if (tenant.dbUsername) await grantTenantStorage(admin, { ...tenant, level: 'TENANT', ...names }, tenant.dbUsername);
      await runtime.central.pool.query('UPDATE tenants SET database_name = $2, schema_name = $3, updated_at = now() WHERE id = $1', [tenantId, names.databaseName, names.schemaName]);
      await runtime.events.publish({ type: 'TenantUpdated', tenantId });
    },
  };
}

type LoadedTenant = BackupTenant & { dbServerId: string | null; dbUsername: string | null };

async function loadTenants(runtime: Runtime, slugs: string[]): Promise<LoadedTenant[]> {
  const { rows } = await runtime.central.pool.query<LoadedTenant & { level: string }>(
    `SELECT id, slug, key, level, isolation, database_name AS "databaseName", schema_name AS "schemaName",
            db_server_id AS "dbServerId", db_username AS "dbUsername"
       FROM tenants WHERE slug = ANY($1::text[]) AND deleted_at IS NULL`,
    [slugs],
  );
  const bySlug = new Map(rows.map((row) => [row.slug, row]));
  return slugs.map((slug) => {
    const row = bySlug.get(slug);
    if (!row) throw new UsageError(`no tenant has the slug ${JSON.stringify(slug)}`);
    if (row.level !== 'TENANT') throw new UsageError(`${slug} is a ${row.level}; backups are of TENANT storage`);
    return row;
  });
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new InvalidArgumentError('expected a whole number from 1 to 32');
  return n;
}
