/**
 * `tenantgraph tenants:seed --tenants a,b|--all --seeder A,B [--parallel N] [--json]`: runs registered
 * seeders (src/seeders/) in the given order inside each tenant's context, with progress and, per
 * tenant and seeder, its time and memory (heap growth and resident set after). Exit 0 when every
 * tenant succeeded, 1 when any failed (a failing seeder stops that tenant's later seeders), 2 for bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { resolveSeeders, type Seeder } from '../seeders/index.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { formatFleetSummary, runFleet } from './fleet.js';
import { parseSlugList, selectTenants, UsageError } from './tenant-selection.js';

type SeedOptions = { tenants?: string[]; all?: boolean; seeder: string[]; parallel: number; json?: boolean };
type SeederReport = { seeder: string; ms: number; heapDeltaBytes: number; rssBytes: number; result: unknown };

export function registerTenantsSeedCommand(program: Command): void {
  program
    .command('tenants:seed')
    .description("Run registered seeders (src/seeders/) in order in each tenant's context.")
    .option('--tenants <slugs>', 'comma-separated tenant slugs', parseSlugList)
    .option('--all', 'every live TENANT')
    .requiredOption('--seeder <names>', 'comma-separated seeder names, run in this order', (value: string) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .option('--parallel <n>', 'tenants at once', parseParallel, 4)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: SeedOptions) => {
      let seeders: Seeder[];
      try {
        seeders = resolveSeeders(options.seeder);
      } catch (error) {
        process.stderr.write(`tenantgraph: ${(error as Error).message}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      await withRuntime(options, async (runtime) => {
        let tenants;
        try {
          tenants = await selectTenants(runtime.central.pool, options);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          process.stderr.write(`tenantgraph: ${error.message}\n`);
          process.exitCode = EXIT.usage;
          return;
        }
        const principal = { kind: 'system', actor: `cli:tenants:seed:${options.seeder.join(',')}` } as const;
        const label = `tenants:seed ${options.seeder.join(',')}`;
        const summary = await runFleet(
          tenants,
          (tenant) =>
            runtime.scopes.runInTenant(tenant.id, principal, async (context) => {
              const reports: SeederReport[] = [];
              for (const seeder of seeders) {
                const heapBefore = process.memoryUsage().heapUsed;
                const started = performance.now();
                const result = await seeder.run(context);
                const memory = process.memoryUsage();
                reports.push({ seeder: seeder.name, ms: Math.round(performance.now() - started), heapDeltaBytes: memory.heapUsed - heapBefore, rssBytes: memory.rss, result });
              }
              return reports;
            }),
          { parallel: options.parallel, quiet: options.json, label },
        );
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, ...summary })}\n`);
        else {
          const table = new Table({ head: ['tenant', 'seeder', 'ms', 'heap Δ', 'rss', 'result'], wordWrap: true, colWidths: [28, 18, 8, 10, 10, 40], style: { head: [] } });
          for (const item of summary.items) {
            if (item.status !== 'done') continue;
            for (const report of item.result) table.push([item.slug, report.seeder, report.ms, mb(report.heapDeltaBytes), mb(report.rssBytes), JSON.stringify(report.result)]);
          }
          process.stdout.write(`${table.toString()}\n${formatFleetSummary(summary, label)}\n`);
        }
        if (summary.failed > 0) process.exitCode = EXIT.failed;
      });
    });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}
