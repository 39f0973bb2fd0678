/**
 * Provisioning speed: `npx tsx bench/provisioning.ts [--samples 30] [--bulk 200] [--parallelism 4]`.
 *
 * Starts the whole server in this process (WORKER on, as `npm start`) on fresh databases of its
 * own (`tg_bprov_<run>`, tenants `bp<run>_*`, dropped at the end) and measures, side by side in
 * the same run:
 *  - from the createTenant mutation (real HTTP) to ACTIVE (the TenantProvisioned event, published
 *    in this process the moment the tenant row turns ACTIVE), for DATABASE and SCHEMA tenants, one
 *    at a time: p50/p95;
 *  - the floor: `CREATE DATABASE … TEMPLATE <the migrated template>` with each STRATEGY (DATABASE),
 *    `CREATE SCHEMA` + the tenant migration SQL (SCHEMA), on the same server, one at a time;
 *  - each step's share of the time in steps (provisioning_steps.duration_ms);
 *  - `--bulk` DATABASE tenants created at `--parallelism` concurrent mutations: total wall time.
 * `PROVISIONING_SPARES=0 npx tsx bench/provisioning.ts` measures without spare SCHEMA storage.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { makeLogger } from '../src/infra/logger.js';
import { quoteIdent } from '../src/infra/sql-names.js';
import { mintAccessToken } from '../src/tenancy/identification/access-tokens.js';
import { databaseTemplateName } from '../src/tenancy/isolation/database-isolation.js';
import { provisionTenant } from '../src/tenancy/provisioning/provision-tenant.js';
import { mapLimit } from './util.js';

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const SAMPLES = arg('samples', 30);
const BULK = arg('bulk', 200);
const PARALLELISM = arg('parallelism', 4);

const base = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const run = randomBytes(3).toString('hex');
const central = `tg_bprov_${run}`;
const prefix = `bp${run}_`;
const shared = `bp${run}_shared`;
const urlOf = (database: string) => {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: urlOf('postgres'), application_name: 'bench:provisioning' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${quoteIdent(central)}`);
  const config = parseConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    DATABASE_URL: urlOf(central),
    ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
    JWT_SECRET: randomBytes(36).toString('base64url'),
    TENANCY_ENCRYPTION_KEYS: `bp:${randomBytes(32).toString('base64')}`,
    DEMO_DATA: 'false',
    CLUSTER_PREPARE_CRON: 'off',
    TENANT_PURGE_CRON: 'off',
    TENANT_DATABASE_PREFIX: prefix,
    TENANTS_SHARED_DATABASE: shared,
    STORAGE_DIR: `/tmp/${central}`,
    RATE_LIMIT_PRINCIPAL_PER_MINUTE: '1000000',
    // PROVISIONING_SPARES=0 measures SCHEMA tenants that make their own storage (default: the server's default).
    ...(process.env.PROVISIONING_SPARES ? { PROVISIONING_SPARES: process.env.PROVISIONING_SPARES } : {}),
  });
  const app = await startApp(config, makeLogger('error'));
  try {
    const token = await mintAccessToken(app.tokens, { subject: 'bench', tenantId: null, roles: ['system_admin'] });
    const tenantApp = await provisionTenant(app.tenancy, { level: 'APP', key: 'bench_app', slug: `bp${run}-app`, name: 'Bench app' });
    const group = await provisionTenant(app.tenancy, { level: 'CENTRAL_TENANT', parentId: tenantApp.id, key: 'bench_group', slug: `bp${run}-group`, name: 'Bench group' });

    const active = new Map<string, (outcome: 'ACTIVE' | 'FAILED') => void>();
    app.runtime.events.on('TenantProvisioned', (event) => active.get(event.tenantId)?.('ACTIVE'));
    app.runtime.events.on('TenantStatusChanged', (event) => {
      if (event.to === 'FAILED') active.get(event.tenantId)?.('FAILED');
    });
    /** Attempts that ended FAILED (e.g. the shared server ran out of connections): reported, not timed. */
    let failures = 0;
    let counter = 0;
    /** One createTenant over HTTP; answers ms from sending the mutation to ACTIVE (undefined when it FAILED). */
    /** From sending createTenant to its answer (PROVISIONING), every create. */
    const answered: number[] = [];
    async function create(isolation: 'DATABASE' | 'SCHEMA'): Promise<number | undefined> {
      const slug = `bp${run}-t${++counter}`;
      const started = performance.now();
      let resolveActive!: (outcome: 'ACTIVE' | 'FAILED') => void;
      const activated = new Promise<'ACTIVE' | 'FAILED'>((resolve) => (resolveActive = resolve));
      const response = await fetch(`http://127.0.0.1:${app.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id status } }',
          variables: { input: { level: 'TENANT', parentId: group.id, slug, name: slug, isolation } },
        }),
      });
      const body = (await response.json()) as { data?: { createTenant: { id: string } }; errors?: unknown };
      if (!body.data) throw new Error(`createTenant failed: ${JSON.stringify(body.errors)}`);
      answered.push(performance.now() - started);
      const id = body.data.createTenant.id;
      active.set(id, resolveActive);
      // The event may have fired before the answer arrived: the row says so.
      const row = await app.central.pool.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [id]);
      if (row.rows[0]?.status === 'ACTIVE' || row.rows[0]?.status === 'FAILED') resolveActive(row.rows[0].status);
      const outcome = await activated;
      const elapsed = performance.now() - started;
      active.delete(id);
      if (outcome === 'FAILED') failures++;
      return outcome === 'ACTIVE' ? elapsed : undefined;
    }

    // Warm-up: builds the template, the shared database, the pools.
    await create('DATABASE');
    await create('SCHEMA');

    // The server's template for the current tenant migrations (database-isolation.ts names it).
    const templateName = databaseTemplateName(prefix.replace(/_+$/, ''), app.tenancy.migrations, new Date().getUTCFullYear());
    const templates = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [templateName]);
    if (templates.rowCount !== 1) throw new Error(`no template database ${templateName}`);

    const timings: Record<string, number[]> = { DATABASE: [], SCHEMA: [], 'floor DATABASE FILE_COPY': [], 'floor DATABASE WAL_LOG': [], 'floor SCHEMA': [] };
    const sharedClient = new pg.Client({ connectionString: urlOf(shared) });
    await sharedClient.connect();
    const migrationSql = app.tenancy.migrations.tenant.map((file) => file.sql);
    for (let i = 0; i < SAMPLES; i++) {
      // Interleaved, so load from other work on the machine falls on all four alike.
      const database = await create('DATABASE');
      if (database !== undefined) timings.DATABASE!.push(database);
      const schema = await create('SCHEMA');
      if (schema !== undefined) timings.SCHEMA!.push(schema);
      const floorDb = `${prefix}floor_${i}`;
      let started = 0;
      for (const strategy of ['FILE_COPY', 'WAL_LOG']) {
        started = performance.now();
        await admin.query(`CREATE DATABASE ${quoteIdent(floorDb)} TEMPLATE ${quoteIdent(templateName)} STRATEGY ${strategy}`);
        timings[`floor DATABASE ${strategy}`]!.push(performance.now() - started);
        await admin.query(`DROP DATABASE ${quoteIdent(floorDb)}`);
      }
      const floorSchema = `${prefix}floor_${i}`;
      started = performance.now();
      await sharedClient.query(`CREATE SCHEMA ${quoteIdent(floorSchema)}; SET search_path TO ${quoteIdent(floorSchema)}`);
      for (const sql of migrationSql) await sharedClient.query(sql);
      timings['floor SCHEMA']!.push(performance.now() - started);
      await sharedClient.query(`RESET search_path; DROP SCHEMA ${quoteIdent(floorSchema)} CASCADE`);
    }
    await sharedClient.end();

    // Steps by how the storage came: SCHEMA tenants that claimed a spare (schema-spares.ts) and those that made theirs.
    const shares = await app.central.pool.query<{ isolation: string; name: string; avg: number }>(
      `SELECT t.isolation || CASE WHEN r.state ? 'spareKey' THEN ' (spare claimed)' WHEN t.isolation = 'SCHEMA' THEN ' (storage made)' ELSE '' END AS isolation,
              s.name, avg(s.duration_ms)::float AS avg
         FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id JOIN tenants t ON t.id = r.tenant_id
        WHERE t.level = 'TENANT' GROUP BY 1, s.name, s.position ORDER BY 1, s.position`,
    );
    const claims = await app.central.pool.query<{ claimed: number; all: number }>(
      `SELECT count(*) FILTER (WHERE r.state ? 'spareKey')::int AS claimed, count(*)::int AS all FROM provisioning_runs r JOIN tenants t ON t.id = r.tenant_id WHERE t.isolation = 'SCHEMA' AND t.level = 'TENANT'`,
    );

    const bulkStarted = performance.now();
    await mapLimit(
      Array.from({ length: BULK }, (_, i) => i),
      PARALLELISM,
      () => create('DATABASE'),
    );
    const bulkSeconds = (performance.now() - bulkStarted) / 1000;

    console.log(`\nProvisioning, mutation → ACTIVE (${SAMPLES} samples each, one at a time; ${new Date().toISOString()})`);
    console.log('| what | p50 | p95 |');
    console.log('|---|---|---|');
    for (const [name, values] of Object.entries(timings)) console.log(`| ${name} | ${fmt(percentile(values, 50))} | ${fmt(percentile(values, 95))} |`);
    console.log(`\ncreateTenant answered (PROVISIONING), every create: p50 ${fmt(percentile(answered, 50))}, p95 ${fmt(percentile(answered, 95))}`);
    console.log('\nAverage step time (ms) and share of the time in steps');
    for (const isolation of [...new Set(shares.rows.map((row) => row.isolation))]) {
      const rows = shares.rows.filter((row) => row.isolation === isolation);
      const total = rows.reduce((sum, row) => sum + row.avg, 0);
      console.log(`${isolation}: ${rows.map((row) => `${row.name} ${row.avg.toFixed(1)} (${((100 * row.avg) / total).toFixed(0)}%)`).join(', ')}`);
    }
    console.log(`\n${BULK} DATABASE tenants at parallelism ${PARALLELISM}: ${bulkSeconds.toFixed(1)} s (${((bulkSeconds * 1000) / BULK).toFixed(0)} ms a tenant)`);
    console.log(`SCHEMA tenants that claimed a spare (PROVISIONING_SPARES=${app.runtime.config.tenancy.provisioningSpares}): ${claims.rows[0]!.claimed} of ${claims.rows[0]!.all}`);
    console.log(`Attempts that ended FAILED (not timed): ${failures}`);
  } finally {
    await app.stop();
    // Everything this run made: tenant databases, template, shared database, roles, central database.
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2', [prefix, central]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    const roles = await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
    for (const { rolname } of roles.rows) await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(rolname)}`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
