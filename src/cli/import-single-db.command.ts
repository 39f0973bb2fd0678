/**
 * `tenantgraph import:single-db --source <url> --tenant-column clinic_id --group <slug>
 *   [--isolation SCHEMA|DATABASE] [--parallel N] [--dry-run] [--json]`: one tenant per distinct
 * tenant-column value of a single-database clinic app (src/tenancy/import/single-db-import.ts for the
 * expected tables). Everything is checked before anything is made; the source is read-only.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ImportRefusedError, importOne, openSource, planImport, TENANT_COLUMN, type GroupRecord } from '../tenancy/import/single-db-import.js';
import { ISOLATIONS, SLUG_PATTERN, type Isolation } from '../tenancy/model.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { formatFleetSummary, runFleet } from './fleet.js';

type ImportOptions = { source: string; tenantColumn: string; group: string; isolation: Isolation; parallel: number; dryRun?: boolean; json?: boolean };

export function registerImportSingleDbCommand(program: Command): void {
  program
    .command('import:single-db')
    .description('Import a single-database clinic app: a tenant per distinct tenant-column value, rows copied and counted.')
    .requiredOption('--source <url>', 'postgres:// URL of the source database (opened read-only)', (value: string) => {
      if (!/^postgres(ql)?:\/\//.test(value)) throw new InvalidArgumentError('expected a postgres:// URL');
      return value;
    })
    .requiredOption('--tenant-column <name>', 'the column naming the tenant in every table, e.g. clinic_id', (value: string) => {
      if (!TENANT_COLUMN.test(value)) throw new InvalidArgumentError('expected a lower-case column name');
      return value;
    })
    .requiredOption('--group <slug>', 'the CENTRAL_TENANT the new clinics are made under', (value: string) => {
      if (!SLUG_PATTERN.test(value)) throw new InvalidArgumentError('expected a group slug');
      return value;
    })
    .option('--isolation <kind>', `${ISOLATIONS.join(' or ')} (default DATABASE)`, (value: string) => {
      if (!(ISOLATIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${ISOLATIONS.join(' or ')}`);
      return value as Isolation;
    }, 'DATABASE')
    .option('--parallel <n>', 'clinics at once', (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError('expected 1 to 16');
      return n;
    }, 2)
    .option('--dry-run', 'show what would be imported, make nothing')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: ImportOptions) => {
      await withRuntime(options, async (runtime) => {
        const source = openSource(options.source);
        try {
          const { rows } = await runtime.central.pool.query<GroupRecord>(
            `SELECT id, level, key, slug, isolation, database_name AS "databaseName", schema_name AS "schemaName"
               FROM tenants WHERE slug = $1 AND level = 'CENTRAL_TENANT' AND status = 'ACTIVE' AND deleted_at IS NULL`,
            [options.group],
          );
          const group = rows[0];
          if (!group) {
            process.stderr.write(`tenantgraph: no active group has the slug ${JSON.stringify(options.group)}\n`);
            process.exitCode = EXIT.usage;
            return;
          }
          let plan;
          try {
            plan = await planImport(runtime.tenancy, source, options.tenantColumn);
          } catch (error) {
            if (!(error instanceof ImportRefusedError)) throw error;
            if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, kind: 'refused', error: error.message })}\n`);
            else process.stderr.write(`tenantgraph: import refused, nothing was made: ${error.message}\n`);
            process.exitCode = EXIT.failed;
            return;
          }
          if (options.dryRun) {
            if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, dryRun: true, tenants: plan })}\n`);
            else for (const item of plan) console.log(`${item.value} → ${item.slug} (${options.isolation}): ${Object.entries(item.counts).map(([t, n]) => `${n} ${t}`).join(', ')}; years ${item.years.join(', ') || 'none'}`);
            return;
          }
          const summary = await runFleet(plan, (item) => importOne(runtime.tenancy, source, options.tenantColumn, group, item, options.isolation), {
            parallel: options.parallel,
            quiet: options.json,
            label: 'import:single-db',
          });
          if (options.json) process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, ...summary })}\n`);
          else process.stdout.write(`${formatFleetSummary(summary, 'import:single-db')}\n`);
          if (summary.failed > 0) process.exitCode = EXIT.failed;
        } finally {
          await source.end();
        }
      });
    });
}
