import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PrismaClient } from '../../src/generated/central/client.js';
import { createClientRegistry, DATABASE_BUSY_MARKER, type ConnectionTarget, type RegistryLimits } from '../../src/tenancy/registry/index.js';
import { quoteIdent } from '../../src/infra/sql-names.js';
import { testPool, uniqueName } from '../helpers/database.js';

const databaseUrl = inject('databaseUrl');
const adminUrl = inject('adminDatabaseUrl');
const runId = inject('runId');
const testDatabase = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));

const pool = testPool(2);
const admin = new pg.Pool({ connectionString: adminUrl, max: 2 });
/** More databases, for tests that need several pools. */
const otherDatabase = `tg_reg_${runId}_other`;
const thirdDatabase = `tg_reg_${runId}_third`;

beforeAll(async () => {
  for (const name of [otherDatabase, thirdDatabase]) await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
});
afterAll(async () => {
  await pool.end();
  for (const name of [otherDatabase, thirdDatabase]) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.end();
});

const factories = {
  central: (shared: pg.Pool, schema: string) => new PrismaClient({ adapter: new PrismaPg(shared, { schema }) }),
  raw: (shared: pg.Pool, schema: string) => ({ pool: shared, schema, $disconnect: async () => {} }),
};

const limits = (overrides: Partial<RegistryLimits> = {}): RegistryLimits => ({
  maxClients: 100,
  poolMax: 3,
  maxConnections: 10,
  acquireTimeoutMs: 5000,
  idleTtlMs: 60_000,
  ...overrides,
});

const target = (database: string, schema = 'public'): ConnectionTarget => ({ serverUrl: adminUrl, database, schema });

/** Connections the server has open for `applicationName`. */
async function serverConnections(applicationName: string): Promise<number> {
  const result = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  return result.rows[0]!.n;
}

describe('client registry against PostgreSQL', () => {
  it('routes each schema client of one shared pool to its own schema', async () => {
    const first = uniqueName('reg_a');
    const second = uniqueName('reg_b');
    for (const [schema, key] of [
      [first, 'alpha'],
      [second, 'beta'],
    ] as const) {
      await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      await pool.query(`CREATE TABLE ${quoteIdent(schema)}.plans (LIKE public.plans INCLUDING ALL)`);
      await pool.query(`INSERT INTO ${quoteIdent(schema)}.plans (key, name) VALUES ($1, $2), ($3, $4)`, [
        `${key}-1`,
        `${key} one`,
        `${key}-2`,
        `${key} two`,
      ]);
    }
    const applicationName = `tg:reg:${runId}:route`;
    const registry = createClientRegistry({ factories, limits: limits(), applicationName });
    try {
      // Different URL spellings of one server still share the pool.
      const a = registry.lease({ ...target(testDatabase, first), serverUrl: databaseUrl }, 'central');
      const b = registry.lease(target(testDatabase, second), 'central');
      expect(a.client).not.toBe(b.client);
      const [plansA, plansB] = await Promise.all([
        a.client.plan.findMany({ orderBy: { key: 'asc' } }),
        b.client.plan.findMany({ orderBy: { key: 'asc' } }),
      ]);
      expect(plansA.map((plan) => plan.key)).toEqual(['alpha-1', 'alpha-2']);
      expect(plansB.map((plan) => plan.key)).toEqual(['beta-1', 'beta-2']);

      // Writes go to the right schema too.
      await b.client.plan.create({ data: { key: 'beta-3', name: 'beta three' } });
      const counted = await pool.query(`SELECT (SELECT count(*) FROM ${quoteIdent(first)}.plans)::int AS a, (SELECT count(*) FROM ${quoteIdent(second)}.plans)::int AS b`);
      expect(counted.rows[0]).toEqual({ a: 2, b: 3 });

      // The same key again is the same client; both schemas share one pool.
      const again = registry.lease(target(testDatabase, first), 'central');
      expect(again.client).toBe(a.client);
      const metrics = registry.metrics();
      expect(metrics).toMatchObject({ clientMisses: 2, clientHits: 1, openPools: 1, openClients: 2 });
      expect(metrics.queries).toBeGreaterThanOrEqual(3);
      expect(metrics.connections).toBeLessThanOrEqual(3);
      expect(await serverConnections(applicationName)).toBe(metrics.connections);
      for (const lease of [a, b, again]) lease.release();
    } finally {
      await registry.close();
    }
    expect(await serverConnections(applicationName)).toBe(0);
  });

  it('fails a query with DATABASE_BUSY when no slot frees in time, and never goes over budget', async () => {
    const applicationName = `tg:reg:${runId}:busy`;
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 2, acquireTimeoutMs: 200 }), applicationName });
    try {
      // Three databases, three pools, three connections wanted at once; the budget has two.
      const leases = [testDatabase, otherDatabase, thirdDatabase].map((database) => registry.lease(target(database), 'raw'));
      const started = Date.now();
      const running = Promise.allSettled(leases.map((lease) => lease.client.pool.query('SELECT pg_sleep(1)')));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await serverConnections(applicationName)).toBe(2);
      const outcomes = await running;
      const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
      expect(failed).toHaveLength(1);
      expect(String((failed[0] as PromiseRejectedResult).reason)).toContain(DATABASE_BUSY_MARKER);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

      // Through Prisma the marker survives too, so formatError can map it to DATABASE_BUSY.
      const central = registry.lease(target(testDatabase, 'public'), 'central');
      const sleepers = [leases[0]!, leases[1]!].map((lease) => lease.client.pool.query('SELECT pg_sleep(0.6)'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(central.client.plan.findMany()).rejects.toThrow(DATABASE_BUSY_MARKER);
      await Promise.all(sleepers);

      const metrics = registry.metrics();
      expect(metrics.busyErrors).toBe(2);
      expect(metrics.budgetWaits).toBeGreaterThanOrEqual(2);
      expect(metrics.peakConnections).toBe(2);
      expect(metrics.openPools).toBe(3);
      for (const lease of [...leases, central]) lease.release();
      // Once slots are free the same client works.
      const retry = registry.lease(target(testDatabase, 'public'), 'central');
      expect(await retry.client.plan.count()).toBeGreaterThanOrEqual(0);
      retry.release();
    } finally {
      await registry.close();
    }
  });

  it('closes an idle connection of a leased pool to serve a waiting one', async () => {
    const applicationName = `tg:reg:${runId}:steal`;
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 2, poolMax: 2 }), applicationName, pressureRelief: 'close-pool' });
    try {
      // Pool 1 is leased (by a request between two queries) and has an idle connection.
      const holder = registry.lease(target(testDatabase), 'raw');
      await holder.client.pool.query('SELECT 1');
      expect(holder.client.pool.idleCount).toBe(1);

      // Pool 2 needs two connections at once: one slot is free, the other must be taken from pool 1.
      const other = registry.lease(target(otherDatabase), 'raw');
      await Promise.all([other.client.pool.query('SELECT pg_sleep(0.05)'), other.client.pool.query('SELECT pg_sleep(0.05)')]);
      expect(holder.client.pool.totalCount).toBe(0);
      const metrics = registry.metrics();
      expect(metrics.peakConnections).toBe(2);
      expect(metrics.budgetWaits).toBe(1);
      expect(metrics.poolEvictions).toBe(0); // pool 1 is leased: only its idle connection went
      expect(metrics.busyErrors).toBe(0);

      // Pool 1 still works (its lease holder never noticed).
      await holder.client.pool.query('SELECT 1');
      holder.release();
      other.release();

      // Now pool 2 is unleased and idle: the whole pool goes, least recently used first.
      const third = registry.lease(target(testDatabase, 'x'), 'raw');
      await Promise.all([third.client.pool.query('SELECT 1'), third.client.pool.query('SELECT 1')]);
      expect(registry.metrics().poolEvictions).toBe(1);
      expect(registry.metrics().openPools).toBe(1);
      third.release();
      expect(await serverConnections(applicationName)).toBeLessThanOrEqual(2);
    } finally {
      await registry.close();
    }
    expect(await serverConnections(applicationName)).toBe(0);
  });

  it('an evicted Prisma client keeps serving its running request and is disconnected at release', async () => {
    const applicationName = `tg:reg:${runId}:evict`;
    const registry = createClientRegistry({ factories, limits: limits({ maxClients: 2 }), applicationName });
    try {
      const a = registry.lease(target(testDatabase, 'public'), 'central');
      const running = a.client.$queryRawUnsafe<{ n: number }[]>('SELECT pg_sleep(0.3)::text AS slept, 1 AS n');
      registry.lease(target(testDatabase, 'ev_b'), 'central').release();
      registry.lease(target(testDatabase, 'ev_c'), 'central').release(); // evicts a, which is leased
      expect(registry.metrics()).toMatchObject({ clientEvictions: 1, openClients: 3 });
      expect((await running)[0]!.n).toBe(1);
      expect(await a.client.plan.count()).toBeGreaterThanOrEqual(0); // still usable until released
      a.release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(registry.metrics().openClients).toBe(2);
      // The key gets a fresh client on the same pool.
      const fresh = registry.lease(target(testDatabase, 'public'), 'central');
      expect(fresh.client).not.toBe(a.client);
      expect(await fresh.client.plan.count()).toBeGreaterThanOrEqual(0);
      fresh.release();
      expect(registry.metrics().openPools).toBe(1);
    } finally {
      await registry.close();
    }
  });

  it('closes pools nobody used for idleTtlMs, with their clients', async () => {
    const applicationName = `tg:reg:${runId}:idle`;
    const disconnected: string[] = [];
    const registry = createClientRegistry({
      factories: { raw: (shared: pg.Pool, schema: string) => ({ pool: shared, $disconnect: async () => void disconnected.push(schema) }) },
      limits: limits({ idleTtlMs: 300 }),
      applicationName,
    });
    try {
      const lease = registry.lease(target(testDatabase, 'idle_a'), 'raw');
      await lease.client.pool.query('SELECT 1');
      lease.release();
      const held = registry.lease(target(otherDatabase, 'idle_b'), 'raw');
      await held.client.pool.query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 900));
      const metrics = registry.metrics();
      expect(metrics).toMatchObject({ openPools: 1, poolEvictions: 1, openClients: 1 });
      expect(disconnected).toEqual(['idle_a']);
      // The leased pool stays; pg closed its idle connection, its client is still usable.
      expect(await serverConnections(applicationName)).toBe(0);
      await held.client.pool.query('SELECT 1');
      held.release();
    } finally {
      await registry.close();
    }
    expect(disconnected.sort()).toEqual(['idle_a', 'idle_b']);
  });
});
