/**
 * `npx tsx bench/set-role.ts [--tenants 20] [--queries 20000] [--concurrency 16]`: what running
 * each tenant's statements as its own role costs on a shared pool (src/tenancy/registry/role-pool.ts).
 *
 * One database, N schemas with a small table each, one role per schema with grants on its schema
 * only, one pg.Pool of 5 connections logged in as the admin. Side by side, same run:
 *  - none:            no role switching (what a shared pool did before per-tenant roles);
 *  - switch-if-other: our view, `SET ROLE` only when the connection holds another tenant's role;
 *  - always:          `SET ROLE` on every checkout and `RESET ROLE` on every release (the naive way);
 *  - one tenant:      our view with a single hot tenant (no switch after the first).
 * Each statement is a primary-key read through the pool, random tenant per statement. The modes
 * run in interleaved rounds (--rounds, default 5) and the median round is reported, so load from
 * other processes on the machine hits every mode alike.
 */
import pg from 'pg';
import { quoteIdent } from '../src/infra/sql-names.js';
import { poolAsRole } from '../src/tenancy/registry/role-pool.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const TENANTS = Number(args.get('tenants') ?? 20);
const QUERIES = Number(args.get('queries') ?? 20_000);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);
const ROUNDS = Number(args.get('rounds') ?? 5);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'tg_bench_setrole';

const withDb = (database: string) => {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  return url.toString();
};
const role = (i: number) => `tg_bench_setrole_r${i}`;
const schema = (i: number) => `s${i}`;

async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: withDb('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  for (let i = 0; i < TENANTS; i++) await admin.query(`DROP ROLE IF EXISTS ${role(i)}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  for (let i = 0; i < TENANTS; i++) await admin.query(`CREATE ROLE ${role(i)} NOLOGIN NOINHERIT; GRANT ${role(i)} TO CURRENT_USER`);
  await admin.end();
  const db = new pg.Client({ connectionString: withDb(DATABASE) });
  await db.connect();
  for (let i = 0; i < TENANTS; i++) {
    const s = quoteIdent(schema(i));
    await db.query(`CREATE SCHEMA ${s}; CREATE TABLE ${s}.patients (id int PRIMARY KEY, mrn text);
      INSERT INTO ${s}.patients SELECT g, 'm' || g FROM generate_series(1, 100) g;
      GRANT USAGE ON SCHEMA ${s} TO ${role(i)}; GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${role(i)}`);
  }
  await db.end();
}

async function teardown(): Promise<void> {
  const admin = new pg.Client({ connectionString: withDb('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  for (let i = 0; i < TENANTS; i++) await admin.query(`DROP ROLE IF EXISTS ${role(i)}`);
  await admin.end();
}

type Runner = (tenant: number, sql: string) => Promise<unknown>;

async function measure(label: string, pool: pg.Pool, make: (pool: pg.Pool) => Runner, tenants: number): Promise<Record<string, string | number>> {
  const run = make(pool);
  pool.removeAllListeners('acquire');
  switchCount = 0;
  for (let i = 0; i < 200; i++) await run(i % tenants, `SELECT mrn FROM ${quoteIdent(schema(i % tenants))}.patients WHERE id = 1`); // warm up
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < QUERIES) {
        next++;
        const tenant = Math.floor(Math.random() * tenants);
        const t0 = performance.now();
        await run(tenant, `SELECT mrn FROM ${quoteIdent(schema(tenant))}.patients WHERE id = ${1 + (next % 100)}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(3);
  return { mode: label, tenants, 'queries/s': Math.round(QUERIES / seconds), 'p50 ms': pct(50), 'p99 ms': pct(99), switches: switchCount };
}

let switchCount = 0;
const none = (pool: pg.Pool): Runner => (_tenant, sql) => pool.query(sql);
const switchIfOther = (pool: pg.Pool): Runner => {
  const views = Array.from({ length: TENANTS }, (_, i) => poolAsRole(pool, role(i)));
  return (tenant, sql) => views[tenant]!.query(sql);
};
const always = (pool: pg.Pool): Runner => async (tenant, sql) => {
  const client = await pool.connect();
  try {
    await client.query(`SET ROLE ${role(tenant)}`);
    return await client.query(sql);
  } finally {
    await client.query('RESET ROLE').catch(() => {});
    client.release();
  }
};

await setup();
try {
  const modes = [
    ['none', none, TENANTS],
    ['switch-if-other', switchIfOther, TENANTS],
    ['always (SET + RESET)', always, TENANTS],
    ['none, one tenant', none, 1],
    ['switch-if-other, one tenant', switchIfOther, 1],
  ] as const;
  const results = new Map<string, Record<string, string | number>[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, make, tenants] of modes) {
      const pool = new pg.Pool({ connectionString: withDb(DATABASE), max: 5 });
      // Counts SET ROLE / RESET ROLE statements sent (the cost being measured).
      const original = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
        if (typeof a[0] === 'string' && /^(SET|RESET) ROLE/.test(a[0])) switchCount++;
        return (original as (...x: unknown[]) => unknown).apply(this, a);
      } as typeof original;
      try {
        const row = await measure(label, pool, make, tenants);
        results.set(label, [...(results.get(label) ?? []), row]);
      } finally {
        pg.Client.prototype.query = original;
        await pool.end();
      }
    }
  }
  const median = (rows: Record<string, string | number>[]) => [...rows].sort((a, b) => Number(a['queries/s']) - Number(b['queries/s']))[Math.floor(rows.length / 2)]!;
  console.table(modes.map(([label]) => median(results.get(label)!)));
  console.log(`median of ${ROUNDS} interleaved rounds; ${QUERIES} primary-key reads per mode and round, concurrency ${CONCURRENCY}, pool of 5, PostgreSQL ${SERVER.replace(/\/\/[^@]*@/, '//')}`);
} finally {
  await teardown();
}
