import { type Command } from 'commander';
import { centralMigrationTarget } from '../tenancy/migration-targets.js';
import { migrate, readMigrationStatus } from '../tenancy/migrator/index.js';
import { withRuntime } from './cli-runtime.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending central migrations (migrations/central).')
    .option('--status', 'show applied and pending migrations without changing anything')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { status?: boolean; json?: boolean }) => {
      await withRuntime(options, async ({ central, config }) => {
        const target = await centralMigrationTarget(config.migrationsDir);
        if (options.status) {
          const status = await readMigrationStatus(central.pool, target);
          const summary = {
            ok: true,
            target: target.label,
            applied: status.applied.map((m) => m.name),
            pending: status.pending.map((m) => m.name),
            edited: status.edited,
            unknown: status.unknown,
          };
          if (options.json) return void process.stdout.write(`${JSON.stringify(summary)}\n`);
          console.log(`central: ${summary.applied.length} applied, ${summary.pending.length} pending`);
          for (const name of summary.pending) console.log(`  pending  ${name}`);
          for (const name of summary.edited) console.log(`  EDITED   ${name}`);
          for (const name of summary.unknown) console.log(`  UNKNOWN  ${name}`);
          return;
        }
        const started = performance.now();
        const result = await migrate(central.pool, target, (file, ms) => {
          if (!options.json) console.log(`  applied ${file} (${ms} ms)`);
        });
        const totalMs = Math.round(performance.now() - started);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ ok: true, target: result.target, applied: result.applied, alreadyApplied: result.alreadyApplied, totalMs })}\n`);
        } else {
          console.log(`central: ${result.applied.length} applied, ${result.alreadyApplied} already applied (${totalMs} ms)`);
        }
      });
    });
}
