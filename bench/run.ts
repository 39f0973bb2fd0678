/**
 * `npm run bench`: every scenario side by side with its baseline, in one run, written to
 * docs/BENCHMARKS.md. See bench/options.ts for the flags and bench/scenarios.ts for what is
 * measured.
 *
 * Order of work: build → describe the machine → (--fresh: drop) → tenants → hot tenant (ours,
 * plain Apollo, raw floor) → churn over SCHEMA tenants → churn over DATABASE tenants → registry
 * churn with a 20-connection budget → 10,000 SCHEMA tenants → DATABASE tenants under a budget of 400
 * on a second PostgreSQL → abuse → report. A scenario that fails is reported as failed and
 * the others still run.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnvironment } from './environment.js';
import { dropBenchDatabases, ensureFixtures } from './fixtures.js';
import { describeMachine } from './machine.js';
import { parseOptions, UsageError, type BenchOptions } from './options.js';
import { renderReport, type ReportInput } from './report.js';
import { PgActivitySampler } from './samplers.js';
import { abuse, churn, databaseBudget, hotTenant, manySchemaTenants, type AbuseResult, type ChurnResult, type HotResult, type ScenarioContext } from './scenarios.js';
import { DEFAULT_REGISTRY } from './servers.js';
import { makeTokenMinter } from './tokens.js';
import { log } from './util.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), root);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) console.error(error.message);
    console.error(error.usage);
    return error.message ? 2 : 0;
  }
  const startedAt = new Date();
  const started = performance.now();
  const { sizes } = options;
  log(`tenantgraph bench, ${options.mode} mode: ${sizes.durationS} s per measurement, ${sizes.connections} connections, ` +
    `${sizes.schemaTenants} SCHEMA + ${sizes.databaseTenants} DATABASE tenants; report → ${path.relative(process.cwd(), options.out) || options.out}`);

  let buildSeconds: number | undefined;
  if (options.build) {
    log('npm run build');
    const buildStarted = performance.now();
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) {
      console.error('npm run build failed: the bench measures the built server (dist/), so it stops here.');
      return 1;
    }
    buildSeconds = (performance.now() - buildStarted) / 1000;
  }

  const bench = benchEnvironment();
  log('describing the machine');
  const machine = await describeMachine(bench, root);
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres}; background load ${(machine.backgroundBusy * 100).toFixed(0)}%`);

  if (options.fresh) {
    log('--fresh: dropping the bench databases');
    const dropped = await dropBenchDatabases(bench);
    log(`  dropped ${dropped.databases.length} databases and ${dropped.roles} roles`);
  }
  log('tenants');
  const fixtures = await ensureFixtures(
    bench,
    {
      schemaTenants: sizes.schemaTenants,
      databaseTenants: sizes.databaseTenants,
      bulkSchemaTenants: options.scenarios.includes('schema-10k') ? sizes.manySchemaTenants : 0,
      bulkBatchSize: sizes.bulkBatchSize,
      hotPatients: sizes.hotPatients,
      churnPatients: sizes.churnPatients,
      parallelism: sizes.provisionParallelism,
    },
    (line) => log(line),
  );
  log(`  ready in ${fixtures.setupSeconds.toFixed(1)} s (${fixtures.provisioned} provisioned this run)`);

  const sampler = await PgActivitySampler.open(bench);
  const failures: string[] = [];
  let hot: HotResult | undefined;
  let churnSchema: ChurnResult | undefined;
  let churnDatabase: ChurnResult | undefined;
  let registryChurn: ChurnResult | undefined;
  let manySchema: ChurnResult | undefined;
  let budget: ChurnResult | undefined;
  let abuseResult: AbuseResult | undefined;
  try {
    const ctx: ScenarioContext = { bench, root, sizes, sampler, tokens: await makeTokenMinter(bench), fixtures, progress: (line) => log(line), profileDir: options.profileDir };
    const attempt = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!options.scenarios.includes(name as never)) return undefined;
      try {
        return await fn();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`${name} FAILED: ${message}`);
        failures.push(`${name}: ${message.split('\n')[0]}`);
        return undefined;
      }
    };
    hot = await attempt('hot', () => hotTenant(ctx));
    churnSchema = await attempt('churn-schema', () =>
      churn(ctx, { label: `churn, ${fixtures.schemaTenants.length} SCHEMA tenants`, isolation: 'SCHEMA', tenants: fixtures.schemaTenants, registry: DEFAULT_REGISTRY }),
    );
    churnDatabase = await attempt('churn-database', () =>
      churn(ctx, { label: `churn, ${fixtures.databaseTenants.length} DATABASE tenants`, isolation: 'DATABASE', tenants: fixtures.databaseTenants, registry: DEFAULT_REGISTRY }),
    );
    registryChurn = await attempt('registry-churn', () =>
      churn(ctx, {
        label: `registry churn, ${fixtures.databaseTenants.length} DATABASE tenants, budget 20`,
        isolation: 'DATABASE',
        tenants: fixtures.databaseTenants,
        registry: { ...DEFAULT_REGISTRY, DB_MAX_CONNECTIONS: '20' },
      }),
    );
    manySchema = await attempt('schema-10k', () => manySchemaTenants(ctx));
    budget = await attempt('database-budget-400', () => databaseBudget(ctx));
    abuseResult = await attempt('abuse', () => abuse(ctx));
  } finally {
    await sampler.close();
  }

  const input: ReportInput = {
    options,
    machine,
    startedAt,
    totalSeconds: (performance.now() - started) / 1000,
    setup: {
      centralDatabase: decodeURIComponent(new URL(bench.databaseUrl).pathname.slice(1)),
      provisioned: fixtures.provisioned,
      setupSeconds: fixtures.setupSeconds,
      buildSeconds,
    },
    hot,
    churnSchema,
    churnDatabase,
    registryChurn,
    manySchema,
    budget,
    abuse: abuseResult,
  };
  let markdown = renderReport(input);
  if (failures.length > 0) markdown += `\n## Scenarios that failed\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`;
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, markdown.endsWith('\n') ? markdown : `${markdown}\n`);

  // The goals table on the terminal too: the verdict without opening the file.
  const goals = markdown.slice(markdown.indexOf('## Goals'), markdown.indexOf('\n## ', markdown.indexOf('## Goals') + 1));
  console.log(`\n${goals.trim()}\n`);
  log(`report written to ${options.out} (${input.totalSeconds.toFixed(0)} s in all)`);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  return 1;
});
