/**
 * DB_POOL_ADAPTIVE: under a full budget each database in use gets one connection before any
 * pool gets a second, and a query queued for its pool's connection has a deadline too.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClientRegistry, DATABASE_BUSY_MARKER, type ConnectionTarget, type RegistryLimits } from '../../src/tenancy/registry/index.js';
import { quoteIdent } from '../../src/infra/sql-names.js';

const adminUrl = inject('adminDatabaseUrl');
const runId = inject('runId');
const admin = new pg.Pool({ connectionString: adminUrl, max: 2 });
const hot = `tg_ada_${runId}_hot`;
const cold = `tg_ada_${runId}_cold`;
const third = `tg_ada_${runId}_third`;

beforeAll(async () => {
  for (const name of [hot, cold, third]) await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
});
afterAll(async () => {
  for (const name of [hot, cold, third]) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.end();
});

const factories = { raw: (shared: pg.Pool, schema: string) => ({ pool: shared, schema, $disconnect: async () => {} }) };
const limits = (overrides: Partial<RegistryLimits>): RegistryLimits => ({
  maxClients: 100,
  poolMax: 3,
  maxConnections: 2,
  acquireTimeoutMs: 5000,
  idleTtlMs: 60_000,
  adaptivePoolCap: true,
  ...overrides,
});
const target = (database: string): ConnectionTarget => ({ serverUrl: adminUrl, database, schema: 'public' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('adaptive per-pool cap (DB_POOL_ADAPTIVE)', () => {
  it("gives a cold database its first connection before a busy pool's queued work, never over budget", async () => {
    const registry = createClientRegistry({ factories, limits: limits({}), applicationName: `tg:ada:${runId}:first` });
    try {
      const busy = registry.lease(target(hot), 'raw');
      const started = performance.now();
      // 8 × 0.2 s of work: on two connections it lasts at least 0.8 s.
      const hotWork = Array.from({ length: 8 }, () => busy.client.pool.query('SELECT pg_sleep(0.2)').then(() => performance.now() - started));
      await sleep(100);
      const other = registry.lease(target(cold), 'raw');
      const coldDone = await other.client.pool.query('SELECT 1 AS one').then(() => performance.now() - started);
      const hotDone = await Promise.all(hotWork);
      // The cold database waited for one hot query to end, not for the hot pool's queue.
      expect(coldDone).toBeLessThan(Math.max(...hotDone) - 250);
      expect(registry.metrics().peakConnections).toBeLessThanOrEqual(2);
      busy.release();
      other.release();
    } finally {
      await registry.close();
    }
  });

  it('fails a query queued for its pool past the deadline with DATABASE_BUSY', async () => {
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 1, acquireTimeoutMs: 200 }), applicationName: `tg:ada:${runId}:busy` });
    try {
      const lease = registry.lease(target(hot), 'raw');
      const long = lease.client.pool.query('SELECT pg_sleep(2.5)');
      await sleep(200);
      const started = performance.now();
      // The budget is full: the pool may not grow, so this waits for the one connection, with a deadline.
      await expect(lease.client.pool.query('SELECT 1')).rejects.toThrow(DATABASE_BUSY_MARKER);
      expect(performance.now() - started).toBeLessThan(2000);
      await long;
      // Once the connection is free the pool serves again.
      expect((await lease.client.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      lease.release();
    } finally {
      await registry.close();
    }
  });

  it('frees the slot of the database used least lately, not merely the least recently used one', async () => {
    const applicationName = `tg:ada:${runId}:lfu`;
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 2 }), applicationName });
    const connectionsTo = async (database: string) =>
      (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = $2', [applicationName, database])).rows[0]!.n;
    try {
      // hot: used 20 times, then cold: once, more recently. Both idle, nobody leases them.
      for (let i = 0; i < 20; i++) {
        const lease = registry.lease(target(hot), 'raw');
        await lease.client.pool.query('SELECT 1');
        lease.release();
      }
      const once = registry.lease(target(cold), 'raw');
      await once.client.pool.query('SELECT 1');
      once.release();
      // A third database needs a slot: the rarely used one gives up its connection.
      const newcomer = registry.lease(target(third), 'raw');
      await newcomer.client.pool.query('SELECT 1');
      newcomer.release();
      await sleep(100);
      expect(await connectionsTo(hot)).toBe(1);
      expect(await connectionsTo(cold)).toBe(0);
      expect(await connectionsTo(third)).toBe(1);
    } finally {
      await registry.close();
    }
  });

  it('without pressure a pool grows with patience: short overlapping statements share its connection, a slow one gets company', async () => {
    const applicationName = `tg:ada:${runId}:patience`;
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 10, poolGrowAfterMs: 300 }), applicationName });
    try {
      const lease = registry.lease(target(hot), 'raw');
      await lease.client.pool.query('SELECT 1');
      // Pairs of short statements: the second waits for the first's connection (well under 300 ms).
      for (let i = 0; i < 20; i++) await Promise.all([lease.client.pool.query('SELECT 1'), lease.client.pool.query('SELECT 1')]);
      expect(registry.metrics().peakConnections).toBe(1);
      // Behind a 3 s statement the next checkout waits 300 ms, then its pool opens a second connection.
      const started = performance.now();
      const slow = lease.client.pool.query('SELECT pg_sleep(3)');
      await sleep(50);
      await lease.client.pool.query('SELECT 1');
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(300);
      expect(waited).toBeLessThan(2500);
      expect(registry.metrics().peakConnections).toBe(2);
      await slow;
      lease.release();
    } finally {
      await registry.close();
    }
  });

  it('without pressure a pool still grows to poolMax', async () => {
    const registry = createClientRegistry({ factories, limits: limits({ maxConnections: 10 }), applicationName: `tg:ada:${runId}:grow` });
    try {
      const lease = registry.lease(target(hot), 'raw');
      await Promise.all(Array.from({ length: 3 }, () => lease.client.pool.query('SELECT pg_sleep(0.2)')));
      expect(registry.metrics().peakConnections).toBe(3);
      lease.release();
    } finally {
      await registry.close();
    }
  });
});
