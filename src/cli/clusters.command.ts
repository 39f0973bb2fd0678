/**
 * Cluster schemas from the command line:
 *
 *   tenantgraph clusters:generate --tenant <slug>|--all --year Y [--modules emr,pos] [--parallel N] [--json]
 *   tenantgraph clusters:prepare-next-year [--now <ISO date>] [--json]
 *
 * `--tenant` takes any level: an APP or group slug means every clinic below it. Generation runs in
 * this process (synchronously, with progress): durable jobs had not landed when this was written.
 * `clusters:prepare-next-year` is the yearly step (from CLUSTER_PREPARE_FROM, default 12-01):
 * run it daily (cron) and it makes next year's schemas for every tenant not ready, retrying failures.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { generateForTenant, prepareNextYear, tenantsNotReady } from '../tenancy/clusters/cluster-generation.js';
import { FleetSelectionError, selectFleetTenants } from '../tenancy/fleet/fleet-targets.js';
import { clusterYearRange } from '../tenancy/cluster-years.js';
import { CLUSTER_MODULES, SLUG_PATTERN, type ClusterModule } from '../tenancy/model.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { formatFleetSummary, runFleet } from './fleet.js';

type GenerateOptions = { tenant?: string; all?: boolean; year: number; modules?: ClusterModule[]; parallel: number; json?: boolean };

export function registerClustersCommands(program: Command): void {
  program
    .command('clusters:generate')
    .description("Create (or bring up to date) tenants' cluster schemas for a year; idempotent.")
    .option('--tenant <slug>', 'a tenant, or an APP or group slug for every clinic below it', parseSlug)
    .option('--all', 'every live tenant')
    .requiredOption('--year <year>', 'the year, CLUSTER_YEARS_MIN to next year', parseYear)
    .option('--modules <modules>', `comma-separated, of ${CLUSTER_MODULES.join(', ')} (default: the plan's modules)`, parseModules)
    .option('--parallel <n>', 'tenants at once', parseParallel, 4)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: GenerateOptions) => {
      await withRuntime(options, async (runtime) => {
        if ((options.tenant ? 1 : 0) + (options.all ? 1 : 0) !== 1) return usage('give exactly one of --tenant <slug> and --all');
        const range = clusterYearRange(runtime.config.tenancy.clusterYearsMin, 'UTC');
        if (options.year < range.min || options.year > range.max) return usage(`--year must be from ${range.min} to ${range.max}`);
        let tenants;
        try {
          tenants = await selectFleetTenants(runtime.central.pool, { slugs: options.tenant ? [options.tenant] : undefined, level: 'CLUSTER' });
        } catch (error) {
          if (error instanceof FleetSelectionError) return usage(error.message);
          throw error;
        }
        const label = `clusters:generate ${options.year}`;
        const summary = await runFleet(tenants, (tenant) => generateForTenant(runtime.tenancy, tenant, options.year, options.modules), {
          parallel: options.parallel,
          quiet: options.json,
          label,
        });
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, year: options.year, ...summary })}\n`);
        else process.stdout.write(`${formatFleetSummary(summary, label)}\n`);
        if (summary.failed > 0) process.exitCode = EXIT.failed;
      });
    });

  program
    .command('clusters:prepare-next-year')
    .description("The yearly step: from CLUSTER_PREPARE_FROM (default 12-01) on, make next year's schemas for every tenant not ready. Run daily.")
    .option('--now <date>', 'stand on this date (ISO 8601) instead of today', parseDate)
    .option('--parallel <n>', 'tenants at once', parseParallel, 4)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { now?: Date; parallel: number; json?: boolean }) => {
      await withRuntime(options, async (runtime) => {
        const now = options.now ?? new Date();
        const result = await prepareNextYear(runtime.tenancy, { now, from: runtime.config.tenancy.clusterPrepareFrom, parallel: options.parallel });
        const notReady = result.due ? (await tenantsNotReady(runtime.tenancy, result.year)).map((tenant) => tenant.slug) : [];
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: !result.due || result.failed.length === 0, ...result, notReady })}\n`);
        else if (!result.due) console.log(`not due before ${runtime.config.tenancy.clusterPrepareFrom.month}-${runtime.config.tenancy.clusterPrepareFrom.day}`);
        else console.log(`${result.year}: ${result.attempted} tenants attempted, ${result.failed.length} failed, ${notReady.length} not ready${notReady.length ? `: ${notReady.join(', ')}` : ''}`);
        if (result.due && result.failed.length > 0) process.exitCode = EXIT.failed;
      });
    });
}

function usage(message: string): void {
  process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = EXIT.usage;
}

function parseSlug(value: string): string {
  if (!SLUG_PATTERN.test(value)) throw new InvalidArgumentError('expected a tenant slug');
  return value;
}

function parseYear(value: string): number {
  const year = Number(value);
  if (!Number.isInteger(year)) throw new InvalidArgumentError('expected a year like 2027');
  return year;
}

function parseModules(value: string): ClusterModule[] {
  const modules = value.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);
  const bad = modules.find((module) => !(CLUSTER_MODULES as readonly string[]).includes(module));
  if (modules.length === 0 || bad !== undefined) throw new InvalidArgumentError(`expected comma-separated modules of ${CLUSTER_MODULES.join(', ')}`);
  return modules as ClusterModule[];
}

function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an ISO 8601 date like 2026-12-01');
  return date;
}
