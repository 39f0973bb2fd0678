/**
 * Fleet migrations from the command line (docs/architecture.md "Fleet migrations"):
 *
 *   tenantgraph tenants:migrate [--tenants a,b] [--level L] [--parallel N] [--dry-run] [--resume] [--json]
 *   tenantgraph tenants:migrate:status [--tenants a,b] [--level L] [--json]
 *   tenantgraph tenants:rollback --tenants a,b --step N [--level L] [--json]
 *
 * Exit 0 when every tenant succeeded, 1 when any failed (or another fleet migration runs), 2 for bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { type Runtime } from '../runtime.js';
import { FleetBusyError, pendingOf, startFleetMigration, type FleetRunner } from '../tenancy/fleet/fleet-migration.js';
import { FLEET_LEVELS, FleetSelectionError, selectFleetTenants, type FleetLevel, type FleetTenant } from '../tenancy/fleet/fleet-targets.js';
import { fleetStatusOf } from '../tenancy/fleet/fleet-status.js';
import { rollbackFleet, RollbackRefusedError } from '../tenancy/fleet/fleet-rollback.js';
import { getRun, type AppliedFile } from '../tenancy/fleet/migration-runs.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { runFleet, type FleetSummary } from './fleet.js';
import { parseSlugList } from './tenant-selection.js';

type Common = { tenants?: string[]; level?: FleetLevel; parallel: number; json?: boolean };

export const DEFAULT_MIGRATE_PARALLEL = 8;

export function registerTenantsMigrateCommands(program: Command): void {
  program
    .command('tenants:migrate')
    .description('Apply pending migrations of a level to every matching tenant (and cluster schema), recorded as a resumable run.')
    .option('--tenants <slugs>', 'comma-separated slugs; an APP or group slug means its whole subtree (default: every live tenant)', parseSlugList)
    .option('--level <level>', `only this level: ${FLEET_LEVELS.join(', ')} (default: every level)`, parseLevel)
    .option('--parallel <n>', 'tenants at once', parseParallel, DEFAULT_MIGRATE_PARALLEL)
    .option('--dry-run', 'list what would be applied, change nothing')
    .option('--resume', 'continue the last failed or interrupted run (its unfinished tenants)')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: Common & { dryRun?: boolean; resume?: boolean }) => {
      await withRuntime(options, async (runtime) => {
        if (options.resume && (options.tenants || options.level || options.dryRun)) return usage('--resume takes no --tenants, --level or --dry-run: it continues the run as it was');
        const tenants = options.resume ? [] : await select(runtime, options);
        if (!tenants) return;
        if (options.dryRun) return dryRun(runtime, tenants, options);
        await runMigration(runtime, tenants, options);
      });
    });

  program
    .command('tenants:migrate:status')
    .description('Per tenant: applied, pending, last failure, checksum drift and database size. Changes nothing.')
    .option('--tenants <slugs>', 'comma-separated slugs (subtrees); default every live tenant', parseSlugList)
    .option('--level <level>', `only this level: ${FLEET_LEVELS.join(', ')}`, parseLevel)
    .option('--parallel <n>', 'tenants read at once', parseParallel, DEFAULT_MIGRATE_PARALLEL)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: Common) => {
      await withRuntime(options, async (runtime) => {
        const tenants = await select(runtime, options);
        if (!tenants) return;
        const statuses = await fleetStatusOf(runtime.tenancy, tenants, options.level, options.parallel);
        const attention = statuses.filter((s) => s.pending.length > 0 || s.drift.length > 0 || s.lastFailure || s.error);
        if (options.json) return void process.stdout.write(`${JSON.stringify({ ok: true, total: statuses.length, needingAttention: attention.length, tenants: statuses })}\n`);
        const table = new Table({ head: ['tenant', 'level', 'applied', 'pending', 'drift', 'last failure', 'size'], wordWrap: true, colWidths: [28, 16, 9, 28, 24, 40, 10], style: { head: [] } });
        for (const s of statuses) {
          table.push([s.slug, s.level, s.applied, s.pending.join('\n'), s.drift.join('\n'), s.error ?? s.lastFailure?.error ?? '', formatBytes(s.sizeBytes)]);
        }
        console.log(table.toString());
        console.log(`${statuses.length} tenants, ${attention.length} needing attention`);
      });
    });

  program
    .command('tenants:rollback')
    .description('Undo the last N applied migrations of a level with their .down.sql files; refuses before any change when one is missing.')
    .requiredOption('--tenants <slugs>', 'comma-separated slugs (subtrees)', parseSlugList)
    .requiredOption('--step <n>', 'how many migrations to undo per target', parseStep)
    .option('--level <level>', `${FLEET_LEVELS.join(', ')} (default TENANT)`, parseLevel, 'TENANT')
    .option('--parallel <n>', 'tenants at once', parseParallel, DEFAULT_MIGRATE_PARALLEL)
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: Common & { step: number }) => {
      await withRuntime(options, async (runtime) => {
        const tenants = await select(runtime, options);
        if (!tenants) return;
        try {
          const summary = await rollbackFleet(runtime.tenancy, tenants, options.level ?? 'TENANT', options.step, fleetRunner(options, 'tenants:rollback'));
          const failed = summary.items.filter((item) => item.status === 'failed').length;
          if (options.json) process.stdout.write(`${JSON.stringify({ ok: failed === 0, ...summary })}\n`);
          else {
            for (const item of summary.items) console.log(`${item.status === 'done' ? 'rolled back' : 'FAILED'} ${item.slug}: ${item.status === 'done' ? item.rolledBack.join(', ') || 'nothing' : item.error}`);
          }
          if (failed > 0) process.exitCode = EXIT.failed;
        } catch (error) {
          if (!(error instanceof RollbackRefusedError || error instanceof FleetBusyError)) throw error;
          report(options, error.message, error instanceof FleetBusyError ? 'busy' : 'refused', error instanceof RollbackRefusedError ? { missing: error.missing } : {});
        }
      });
    });
}

async function runMigration(runtime: Runtime, tenants: FleetTenant[], options: Common & { resume?: boolean }): Promise<void> {
  let summary: FleetSummary<unknown> | undefined;
  const base = fleetRunner(options, 'tenants:migrate');
  const runner: FleetRunner = async (items, work) => (summary = (await base(items, work)) as FleetSummary<unknown>);
  let started;
  try {
    started = await startFleetMigration(
      runtime.tenancy,
      options.resume
        ? { resume: true, level: undefined, parallel: options.parallel, requestedBy: 'cli:tenants:migrate' }
        : { tenants, level: options.level, parallel: options.parallel, requestedBy: 'cli:tenants:migrate' },
      runner,
    );
  } catch (error) {
    if (!(error instanceof FleetBusyError)) throw error;
    return report(options, error.message, 'busy');
  }
  if (!options.json) process.stderr.write(`tenantgraph: ${started.resumed ? 'resuming' : 'started'} fleet migration run ${started.runId} over ${started.tenants.length} tenants\n`);
  const status = await started.finished;
  const run = await getRun(runtime.central.pool, started.runId);
  const items = (summary?.items ?? []).map((item) =>
    item.status === 'done' ? { slug: item.slug, status: item.status, durationMs: item.durationMs, applied: item.result as AppliedFile[] } : item,
  );
  const migrated = items.filter((item) => item.status === 'done' && item.applied.length > 0).length;
  const upToDate = items.filter((item) => item.status === 'done' && item.applied.length === 0).length;
  const failed = items.filter((item) => item.status === 'failed');
  const durationMs = summary?.durationMs ?? 0;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: failed.length === 0, runId: started.runId, resumed: started.resumed, status, total: items.length, migrated, upToDate, failed: failed.length, run, durationMs, items })}\n`,
    );
  } else {
    const counts = new Table({ head: ['run', 'status', 'tenants', 'migrated', 'up to date', 'failed', 'ms'], style: { head: [] } });
    counts.push([started.runId, status, items.length, migrated, upToDate, failed.length, durationMs]);
    console.log(counts.toString());
    if (failed.length > 0) {
      const table = new Table({ head: ['failed tenant', 'error'], wordWrap: true, colWidths: [30, 90], style: { head: [] } });
      for (const item of failed) table.push([item.slug, 'error' in item ? item.error : '']);
      console.log(table.toString());
      console.log('Fix the cause, then run `tenantgraph tenants:migrate --resume` (or the same command again).');
    }
    const slowest = [...items].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
    if (slowest.length > 0) {
      const table = new Table({ head: ['slowest tenant', 'ms', 'applied'], style: { head: [] } });
      for (const item of slowest) table.push([item.slug, item.durationMs, 'applied' in item ? item.applied.map((a) => a.file).join(', ') : 'FAILED']);
      console.log(table.toString());
    }
  }
  if (failed.length > 0) process.exitCode = EXIT.failed;
}

async function dryRun(runtime: Runtime, tenants: FleetTenant[], options: Common): Promise<void> {
  const summary = await fleetRunner({ ...options, json: true }, 'dry run')(tenants, (tenant) => pendingOf(runtime.tenancy, tenant, options.level)) as FleetSummary<Awaited<ReturnType<typeof pendingOf>>>;
  const rows = summary.items.map((item) => (item.status === 'done' ? { slug: item.slug, targets: item.result } : { slug: item.slug, error: item.error }));
  if (options.json) return void process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, dryRun: true, tenants: rows })}\n`);
  for (const row of rows) {
    if ('error' in row) console.log(`${row.slug}: cannot read status: ${row.error}`);
    else for (const target of row.targets) console.log(`${row.slug} ${target.target}: ${target.pending.length ? `would apply ${target.pending.join(', ')}` : 'up to date'}${target.edited.length ? ` (DRIFT: ${target.edited.join(', ')} edited)` : ''}`);
  }
  if (summary.failed > 0) process.exitCode = EXIT.failed;
}

function fleetRunner(options: { parallel: number; json?: boolean }, label: string): FleetRunner {
  return (items, work) => runFleet(items, work, { parallel: options.parallel, quiet: options.json, label });
}

async function select(runtime: Runtime, options: Common): Promise<FleetTenant[] | undefined> {
  try {
    return await selectFleetTenants(runtime.central.pool, { slugs: options.tenants, level: options.level });
  } catch (error) {
    if (!(error instanceof FleetSelectionError)) throw error;
    usage(error.message);
    return undefined;
  }
}

function usage(message: string): void {
  process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = EXIT.usage;
}

function report(options: { json?: boolean }, message: string, kind: string, extra: Record<string, unknown> = {}): void {
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, kind, error: message, ...extra })}\n`);
  else process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = EXIT.failed;
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function parseLevel(value: string): FleetLevel {
  const level = value.toUpperCase();
  if (!(FLEET_LEVELS as readonly string[]).includes(level)) throw new InvalidArgumentError(`expected one of ${FLEET_LEVELS.join(', ')}`);
  return level as FleetLevel;
}

function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

function parseStep(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
}
