/**
 * The bench's tenants: one hot clinic (own database, 50 patients), SCHEMA clinics in the shared
 * tenants database and DATABASE clinics with a few patients each. Made with the project's own
 * `provisionTenant`, so they are exactly what production provisioning makes; kept across runs
 * (provisioning 1,300 tenants takes minutes, a re-run only looks them up).
 */
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { openCentralDatabase } from '../src/infra/central-database.js';
import { centralMigrationTarget } from '../src/tenancy/migration-targets.js';
import { makeLogger } from '../src/infra/logger.js';
import { closeRedis, openRedis } from '../src/infra/redis.js';
import { migrate } from '../src/tenancy/migrator/index.js';
import { provisionTenant } from '../src/tenancy/provisioning/provision-tenant.js';
import { quoteIdent } from '../src/infra/sql-names.js';
import { type Isolation } from '../src/tenancy/model.js';
import { openTenancyEvents, type TenancyEvents } from '../src/tenancy/events/index.js';
import { createTenancy, type Tenancy } from '../src/tenancy/tenancy.js';
import { type BenchEnvironment } from './environment.js';
import { bulkCreateSchemaTenants } from './bulk-schema-tenants.js';
import { mapLimit } from './util.js';

export type BenchTenant = { id: string; key: string; isolation: Isolation; databaseName: string; schemaName: string };

export type Fixtures = {
  hot: BenchTenant;
  schemaTenants: BenchTenant[];
  databaseTenants: BenchTenant[];
  /**
   * The many-SCHEMA-tenant scenario's clinics (when it runs): how many the bulk path made this run
   * and how long that took (seconds, 0 when all existed).
   */
  bulk: { tenants: BenchTenant[]; made: number; seconds: number } | undefined;
  /** What this run had to create (0 on a re-run) and how long setup took. */
  provisioned: number;
  setupSeconds: number;
};

const APP_KEY = 'bench_app';
const GROUP_KEY = 'bench_group';
const HOT_KEY = 'hot';
const schemaKey = (i: number) => `sc_${String(i).padStart(4, '0')}`;
const databaseKey = (i: number) => `db_${String(i).padStart(3, '0')}`;

/** Drops everything the bench ever made on this server: its databases, then the tenant roles they left. */
export async function dropBenchDatabases(bench: BenchEnvironment): Promise<{ databases: string[]; roles: number }> {
  const central = decodeURIComponent(new URL(bench.databaseUrl).pathname.slice(1));
  const client = new pg.Client({ connectionString: bench.maintenanceUrl, application_name: 'bench:admin' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = $1 OR datname = $2 OR datname LIKE $3 ORDER BY datname",
      [central, bench.sharedTenantsDatabase, `${bench.storagePrefix.replace(/_/g, '\\_')}%`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    // Roles are server-wide: provisioning would find them and fail. Their grants went with the databases.
    const roles = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`${bench.storagePrefix.replace(/_/g, '\\_')}%\\_role`]);
    for (let i = 0; i < roles.rows.length; i += 500) {
      await client.query(roles.rows.slice(i, i + 500).map((r) => `DROP ROLE IF EXISTS ${quoteIdent(r.rolname)}`).join(';\n'));
    }
    return { databases: rows.map((row) => row.datname), roles: roles.rows.length };
  } finally {
    await client.end();
  }
}

/** Opens the bench's central database and tenancy (migrating the central schema), runs `fn`, closes it all. */
export async function withTenancy<T>(bench: BenchEnvironment, fn: (tenancy: Tenancy) => Promise<T>): Promise<T> {
  const config = parseConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: bench.databaseUrl,
    REDIS_URL: bench.redisUrl,
    JWT_SECRET: bench.jwtSecret,
    TENANCY_ENCRYPTION_KEYS: bench.encryptionKeys,
    DEMO_DATA: 'false',
    TENANT_DATABASE_PREFIX: bench.storagePrefix,
    TENANTS_SHARED_DATABASE: bench.sharedTenantsDatabase,
  });
  const logger = makeLogger('warn', 'bench');
  const central = await openCentralDatabase(config, logger); // creates tg_bench when missing
  // With Redis, provisioning publishes tenancy events like production does.
  const redis = openRedis(bench.redisUrl, logger, { name: 'tenantgraph-bench' });
  let tenancy: Tenancy | undefined;
  let events: TenancyEvents | undefined;
  try {
    await migrate(central.pool, await centralMigrationTarget());
    events = await openTenancyEvents({ redis, logger });
    tenancy = await createTenancy({ config, logger, central, redis, events });
    return await fn(tenancy);
  } finally {
    await tenancy?.close();
    await events?.close();
    await closeRedis(redis);
    await central.close();
  }
}

/** The bench's APP and CENTRAL_TENANT (the parent of every bench tenant), made when missing. */
export async function ensureGroup(tenancy: Tenancy): Promise<BenchTenant> {
  const app = await ensureTenant(tenancy, { level: 'APP', key: APP_KEY });
  return (await ensureTenant(tenancy, { level: 'CENTRAL_TENANT', key: GROUP_KEY, parentId: app.tenant.id })).tenant;
}

/**
 * TENANT-level clinics with these keys, made with `provisionTenant` when missing (`parallelism` at
 * a time), in the order of `wanted`.
 */
export async function ensureTenants(
  tenancy: Tenancy,
  wanted: readonly { key: string; isolation: Isolation; dbServer?: string }[],
  parallelism: number,
  progress: (line: string) => void,
): Promise<{ tenants: BenchTenant[]; provisioned: number }> {
  const started = performance.now();
  const group = await ensureGroup(tenancy);
  const existing = await existingTenants(tenancy, wanted.map((w) => w.key));
  const missing = wanted.filter((w) => !existing.has(w.key));
  if (missing.length > 0) progress(`provisioning ${missing.length} tenants (${wanted.length - missing.length} already exist), ${parallelism} at a time`);
  let done = 0;
  let lastReport = performance.now();
  const made = await mapLimit(missing, parallelism, async (w) => {
    const result = await ensureTenant(tenancy, { level: 'TENANT', key: w.key, parentId: group.id, isolation: w.isolation, dbServer: w.dbServer });
    done++;
    if (performance.now() - lastReport > 5000 || done === missing.length) {
      lastReport = performance.now();
      progress(`  provisioned ${done}/${missing.length} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    return result.tenant;
  });
  for (const tenant of made) existing.set(tenant.key, tenant);
  const tenants = wanted.map((w) => {
    const tenant = existing.get(w.key);
    if (!tenant) throw new Error(`tenant ${w.key} was not provisioned`);
    return tenant;
  });
  return { tenants, provisioned: missing.length };
}

/**
 * Makes sure the central database is migrated and the tenants exist with their patients.
 * @param counts how many SCHEMA and DATABASE clinics the run needs (the first N of each kind);
 *   `bulkSchemaTenants`: SCHEMA clinics for the many-tenant scenario (the first N, 0 for none),
 *   those beyond `schemaTenants` made by the bulk path (bench/bulk-schema-tenants.ts)
 */
export async function ensureFixtures(
  bench: BenchEnvironment,
  counts: { schemaTenants: number; databaseTenants: number; bulkSchemaTenants: number; bulkBatchSize: number; hotPatients: number; churnPatients: number; parallelism: number },
  progress: (line: string) => void,
): Promise<Fixtures> {
  const started = performance.now();
  return withTenancy(bench, async (t) => {
    const schemaCount = Math.max(counts.schemaTenants, counts.bulkSchemaTenants > 0 ? 1 : 0);
    const wanted: { key: string; isolation: Isolation }[] = [
      { key: HOT_KEY, isolation: 'DATABASE' },
      ...Array.from({ length: schemaCount }, (_, i) => ({ key: schemaKey(i), isolation: 'SCHEMA' as const })),
      ...Array.from({ length: counts.databaseTenants }, (_, i) => ({ key: databaseKey(i), isolation: 'DATABASE' as const })),
    ];
    const { tenants, provisioned } = await ensureTenants(t, wanted, counts.parallelism, progress);
    const fixtures = {
      hot: tenants[0]!,
      schemaTenants: tenants.slice(1, 1 + counts.schemaTenants),
      databaseTenants: tenants.slice(1 + schemaCount),
    };
    progress('checking patients (idempotent insert; existing rows are kept)');
    await seedPatients(bench.databaseUrl, [fixtures.hot], counts.hotPatients, 1);
    await seedPatients(bench.databaseUrl, [...tenants.slice(1, 1 + schemaCount), ...fixtures.databaseTenants], counts.churnPatients, counts.parallelism);

    // The many-tenant scenario's clinics: those `provisionTenant` made above, the rest in bulk.
    let bulk: Fixtures['bulk'];
    if (counts.bulkSchemaTenants > 0) {
      const keys = Array.from({ length: counts.bulkSchemaTenants }, (_, i) => schemaKey(i));
      const existing = await existingTenants(t, keys);
      const missing = keys.filter((key) => !existing.has(key));
      if (missing.length > 0) progress(`bulk: making ${missing.length} SCHEMA tenants (${existing.size} exist) as clones of ${tenants[1]!.schemaName}`);
      const group = await ensureGroup(t);
      const result = await bulkCreateSchemaTenants(
        bench,
        t,
        { template: tenants[1]!, parentId: group.id, keys: missing, patients: counts.churnPatients, batchSize: counts.bulkBatchSize },
        progress,
      );
      for (const tenant of result.made) existing.set(tenant.key, tenant);
      bulk = { tenants: keys.map((key) => existing.get(key)!), made: result.made.length, seconds: result.seconds };
    }
    return { ...fixtures, bulk, provisioned, setupSeconds: (performance.now() - started) / 1000 };
  });
}

async function existingTenants(tenancy: Tenancy, keys: string[]): Promise<Map<string, BenchTenant>> {
  const { rows } = await tenancy.central.query<{ id: string; key: string; isolation: Isolation; database_name: string; schema_name: string }>(
    "SELECT id, key, isolation, database_name, schema_name FROM tenants WHERE key = ANY($1) AND level = 'TENANT' AND status = 'ACTIVE' AND deleted_at IS NULL",
    [keys],
  );
  return new Map(rows.map((r) => [r.key, { id: r.id, key: r.key, isolation: r.isolation, databaseName: r.database_name, schemaName: r.schema_name }]));
}

/**
 * The tenant with this key, provisioned when missing. A row left behind by an interrupted run
 * (status PROVISIONING) is removed with its storage and made again.
 */
async function ensureTenant(
  tenancy: Tenancy,
  input: { level: 'APP' | 'CENTRAL_TENANT' | 'TENANT'; key: string; parentId?: string; isolation?: Isolation; dbServer?: string },
): Promise<{ tenant: BenchTenant; created: boolean }> {
  const { rows } = await tenancy.central.query<{ id: string; status: string; isolation: Isolation; database_name: string; schema_name: string }>(
    'SELECT id, status, isolation, database_name, schema_name FROM tenants WHERE key = $1 AND level = $2 AND deleted_at IS NULL',
    [input.key, input.level],
  );
  const row = rows[0];
  if (row && row.status === 'ACTIVE') {
    return { tenant: { id: row.id, key: input.key, isolation: row.isolation, databaseName: row.database_name, schemaName: row.schema_name }, created: false };
  }
  if (row) {
    const record = { id: row.id, level: input.level, key: input.key, isolation: row.isolation, databaseName: row.database_name, schemaName: row.schema_name };
    await tenancy.strategyFor(record).dropStorage(record);
    await tenancy.central.query('DELETE FROM tenants WHERE id = $1', [row.id]);
  }
  const slug = input.key.replace(/_/g, '-');
  const made = await provisionTenant(tenancy, {
    level: input.level,
    parentId: input.parentId ?? null,
    key: input.key,
    slug: input.level === 'TENANT' ? `bench-${slug}` : slug,
    name: `Bench ${input.key}`,
    ...(input.level === 'TENANT' ? { isolation: input.isolation ?? 'DATABASE', clusterYears: [], dbServer: input.dbServer ?? null } : {}),
  });
  return {
    tenant: { id: made.id, key: made.key, isolation: made.isolation, databaseName: made.databaseName!, schemaName: made.schemaName! },
    created: true,
  };
}

const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Radia', 'Ken'];
const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'McCarthy', 'Perlman', 'Thompson', 'Ritchie', 'Hamilton'];

/**
 * Gives each tenant `count` patients (MRN `<key>-<n>`). Plain SQL on the tenant's own storage:
 * seeding is setup, not what is measured. ON CONFLICT keeps re-runs cheap and idempotent.
 * @param serverUrl a URL of the server the tenants' databases are on
 */
export async function seedPatients(serverUrl: string, tenants: readonly BenchTenant[], count: number, parallelism: number): Promise<void> {
  const byDatabase = new Map<string, BenchTenant[]>();
  for (const tenant of tenants) byDatabase.set(tenant.databaseName, [...(byDatabase.get(tenant.databaseName) ?? []), tenant]);
  await mapLimit([...byDatabase], parallelism, async ([database, inDatabase]) => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString(), application_name: 'bench:seed' });
    await client.connect();
    try {
      for (const tenant of inDatabase) await client.query(seedPatientsSql(tenant.schemaName, tenant.key, count));
    } finally {
      await client.end();
    }
  });
}

/**
 * The statement that gives one tenant `count` patients, as text (the bulk path batches many in one
 * query, which cannot carry parameters). Keys and schema names are [a-z0-9_] only (checked here).
 */
export function seedPatientsSql(schemaName: string, key: string, count: number): string {
  if (!/^[a-z0-9_]+$/.test(key) || !Number.isInteger(count)) throw new Error(`seedPatientsSql: unexpected key ${JSON.stringify(key)} or count ${count}`);
  const array = (names: readonly string[]) => `ARRAY[${names.map((n) => `'${n}'`).join(', ')}]`;
  return `INSERT INTO ${quoteIdent(schemaName)}.patients (mrn, first_name, last_name, email)
    SELECT '${key}-' || n, (${array(FIRST_NAMES)})[1 + n % ${FIRST_NAMES.length}], (${array(LAST_NAMES)})[1 + (n * 7) % ${LAST_NAMES.length}],
           'p' || n || '@${key}.example'
    FROM generate_series(1, ${count}) AS n
    ON CONFLICT (mrn) DO NOTHING`;
}
