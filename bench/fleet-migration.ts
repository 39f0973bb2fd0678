/**
 * `npx tsx bench/fleet-migration.ts [--schema 500] [--database 300] [--parallel N]`: one new tenant
 * migration (a column with a default and an index) over N SCHEMA and M DATABASE tenants with
 * `tenantgraph tenants:migrate` at its default parallelism, timed end to end as an operator runs
 * it (a child process: start-up, selection, the run record, every tenant, the summary).
 *
 * Its own names (central `tg_bench_fleet`, tenants `bfleet_*`, shared `tg_bench_fleet_tenants`) and
 * its own migrations folder (`.data/bench-fleet-migrations`, a copy of migrations/ plus one file
 * per run), so it never touches the main bench, a developer's or a test run's databases. Tenants are
 * kept across runs; each run adds the next file. Figures go to docs/BENCHMARKS.md by hand.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { openCentralDatabase } from '../src/infra/central-database.js';
import { makeLogger } from '../src/infra/logger.js';
import { mapLimit } from '../src/infra/map-limit.js';
import { centralMigrationTarget } from '../src/tenancy/migration-targets.js';
import { migrate } from '../src/tenancy/migrator/index.js';
import { provisionTenant } from '../src/tenancy/provisioning/provision-tenant.js';
import { createTenancy } from '../src/tenancy/tenancy.js';
import { openTenancyEvents } from '../src/tenancy/events/index.js';
import { projectRoot } from '../src/paths.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const counts = { SCHEMA: option('schema', 500), DATABASE: option('database', 300) };
const parallel = args.includes('--parallel') ? String(option('parallel', 8)) : undefined;

const server = new URL(process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
server.pathname = '/tg_bench_fleet';
const migrationsDir = path.join(projectRoot, '.data', 'bench-fleet-migrations');
const env = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATABASE_URL: server.toString(),
  JWT_SECRET: 'bench-fleet-secret-that-is-long-enough-0123456789',
  DEMO_DATA: 'false',
  TENANT_DATABASE_PREFIX: 'bfleet_',
  TENANTS_SHARED_DATABASE: 'tg_bench_fleet_tenants',
  MIGRATIONS_DIR: migrationsDir,
};
const log = (line: string) => process.stderr.write(`[fleet-bench] ${line}\n`);

if (!existsSync(migrationsDir)) {
  await mkdir(path.dirname(migrationsDir), { recursive: true });
  await cp(path.join(projectRoot, 'migrations'), migrationsDir, { recursive: true });
}

// 1. Tenants (kept across runs).
{
  const config = parseConfig(env);
  const logger = makeLogger('warn', 'bench');
  const central = await openCentralDatabase(config, logger);
  await migrate(central.pool, await centralMigrationTarget(migrationsDir));
  const events = await openTenancyEvents({ redis: undefined, logger });
  const tenancy = await createTenancy({ config, logger, central, redis: undefined, events });
  try {
    const ensure = async (level: 'APP' | 'CENTRAL_TENANT', key: string, parentId?: string) => {
      const found = await central.pool.query<{ id: string }>('SELECT id FROM tenants WHERE key = $1 AND level = $2', [key, level]);
      return found.rows[0]?.id ?? (await provisionTenant(tenancy, { level, key, slug: key.replace(/_/g, '-'), name: key, parentId })).id;
    };
    const appId = await ensure('APP', 'bfleet_app');
    for (const isolation of ['SCHEMA', 'DATABASE'] as const) {
      const groupId = await ensure('CENTRAL_TENANT', `bfleet_${isolation.toLowerCase()}`, appId);
      const keys = Array.from({ length: counts[isolation] }, (_, i) => `bf_${isolation === 'SCHEMA' ? 's' : 'd'}${String(i).padStart(4, '0')}`);
      const existing = new Set((await central.pool.query<{ key: string }>("SELECT key FROM tenants WHERE key = ANY($1) AND level = 'TENANT'", [keys])).rows.map((r) => r.key));
      const missing = keys.filter((key) => !existing.has(key));
      if (missing.length) log(`provisioning ${missing.length} ${isolation} tenants`);
      let done = 0;
      await mapLimit(missing, 4, async (key) => {
        await provisionTenant(tenancy, { level: 'TENANT', key, slug: key.replace(/_/g, '-'), name: key, parentId: groupId, isolation, clusterYears: [] });
        if (++done % 50 === 0) log(`  ${done}/${missing.length}`);
      });
    }
  } finally {
    await tenancy.close();
    await events.close();
    await central.close();
  }
}

// 2. One new migration per run: a column with a default and an index.
const tenantDir = path.join(migrationsDir, 'tenant');
const next = (await readdir(tenantDir)).filter((name) => /^\d{4}_.*\.sql$/.test(name) && !name.endsWith('.down.sql')).length + 1;
const column = `bench_flag_${next}`;
await writeFile(
  path.join(tenantDir, `${String(next).padStart(4, '0')}_bench_flag_${next}.sql`),
  `ALTER TABLE patients ADD COLUMN ${column} integer NOT NULL DEFAULT 0;\nCREATE INDEX patients_${column}_idx ON patients (${column});\n`,
);
log(`added migration ${column}`);

// 3. tenants:migrate per group, timed as a whole command.
function run(cliArgs: string[]): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src/cli/main.ts'), ...cliArgs], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, ms: Math.round(performance.now() - started), stdout, stderr }));
  });
}

const results = [];
for (const isolation of ['SCHEMA', 'DATABASE'] as const) {
  const group = `bfleet-${isolation.toLowerCase()}`;
  const result = await run(['tenants:migrate', '--tenants', group, '--level', 'TENANT', '--json', ...(parallel ? ['--parallel', parallel] : [])]);
  if (result.code !== 0) throw new Error(`tenants:migrate failed for ${group}: ${result.stdout}${result.stderr}`);
  const summary = JSON.parse(result.stdout) as { total: number; migrated: number; failed: number; durationMs: number; items: { durationMs: number }[] };
  const sorted = summary.items.map((item) => item.durationMs).sort((a, b) => a - b);
  const line = {
    isolation,
    tenants: summary.total,
    migrated: summary.migrated,
    failed: summary.failed,
    commandSeconds: result.ms / 1000,
    runSeconds: summary.durationMs / 1000,
    p50TenantMs: sorted[Math.floor(sorted.length / 2)],
    maxTenantMs: sorted.at(-1),
  };
  log(JSON.stringify(line));
  results.push(line);
}
process.stdout.write(`${JSON.stringify({ column, parallel: parallel ?? 'default', results }, null, 2)}\n`);
