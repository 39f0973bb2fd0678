/**
 * The global connection budget under load: 300 databases, a budget of 20 connections, 3000
 * queries 100 at a time, and the server's own count of connections sampled every 20 ms.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClientRegistry, type ConnectionTarget, type RegistryMetrics } from '../../src/tenancy/registry/index.js';
import { quoteIdent } from '../../src/infra/sql-names.js';

const adminUrl = inject('adminDatabaseUrl');
const runId = inject('runId');

const DATABASES = 300;
const QUERIES = 3000;
const CONCURRENCY = 100;
const BUDGET = 20;

const template = `tg_reg_${runId}_tpl`;
const databases = Array.from({ length: DATABASES }, (_, n) => `tg_reg_${runId}_${n}`);
const admin = new pg.Pool({ connectionString: adminUrl, max: 4 });
/** Measured numbers, written to the test output. */
const measured: Record<string, number> = {};

async function inParallel<T>(items: readonly T[], parallelism: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallelism }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  const started = performance.now();
  await admin.query(`CREATE DATABASE ${quoteIdent(template)} TEMPLATE template0`);
  // FILE_COPY copies the (tiny) template's files instead of WAL-logging every block.
  await inParallel(databases, 4, async (name) => {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)} STRATEGY FILE_COPY`);
  });
  measured.createDatabasesMs = Math.round(performance.now() - started);
}, 120_000);

afterAll(async () => {
  const started = performance.now();
  await inParallel([...databases, template], 4, async (name) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
  measured.dropDatabasesMs = Math.round(performance.now() - started);
  await admin.end();
  process.stdout.write(`registry load: ${JSON.stringify(measured)}\n`);
}, 120_000);

/** Samples the server's count of `applicationName` connections until stopped. */
function sampleConnections(applicationName: string): { stop(): Promise<{ peak: number; samples: number }> } {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'tg:reg:sampler' });
  let running = true;
  let peak = 0;
  let samples = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const result = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      peak = Math.max(peak, result.rows[0]!.n);
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, samples };
    },
  };
}

type HammerResult = { failures: unknown[]; succeeded: number; sampledPeak: number; samples: number; metrics: RegistryMetrics; after: RegistryMetrics };

/** Sends `queries` leased queries, CONCURRENCY at a time, spread over every database. */
async function hammer(label: string, queries: number, pressureRelief: 'close-pool' | 'close-connection'): Promise<HammerResult> {
  const applicationName = `tg:reg:${runId}:${label}`;
  const registry = createClientRegistry({
    factories: { raw: (pool: pg.Pool, schema: string) => ({ pool, schema, $disconnect: async () => {} }) },
    limits: { maxConnections: BUDGET, poolMax: 3, acquireTimeoutMs: 10_000, maxClients: 1000, idleTtlMs: 60_000 },
    applicationName,
    pressureRelief,
  });
  const targets: ConnectionTarget[] = databases.map((database) => ({ serverUrl: adminUrl, database, schema: 'public' }));
  const sampler = sampleConnections(applicationName);
  const failures: unknown[] = [];
  let succeeded = 0;
  let next = 0;
  const started = performance.now();
  let metrics: RegistryMetrics;
  let sampled: { peak: number; samples: number };
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let n = next++; n < queries; n = next++) {
          // 7 is prime to 300: every database gets its share, neighbours hit different ones.
          const lease = registry.lease(targets[(n * 7) % DATABASES]!, 'raw');
          try {
            await lease.client.pool.query('SELECT pg_sleep(0.002)');
            succeeded++;
          } catch (error) {
            failures.push(error);
          } finally {
            lease.release();
          }
        }
      }),
    );
  } finally {
    measured[`${label}Ms`] = Math.round(performance.now() - started);
    sampled = await sampler.stop();
    metrics = registry.metrics();
    await registry.close();
  }
  measured[`${label}SampledPeak`] = sampled.peak;
  measured[`${label}PeakConnections`] = metrics.peakConnections;
  measured[`${label}PoolEvictions`] = metrics.poolEvictions;
  measured[`${label}ClientHits`] = metrics.clientHits;
  return { failures, succeeded, sampledPeak: sampled.peak, samples: sampled.samples, metrics, after: registry.metrics() };
}

describe('client registry under load', () => {
  it(`keeps ${DATABASES} databases under a budget of ${BUDGET} connections`, async () => {
    const result = await hammer('hammer', QUERIES, 'close-pool');
    expect(result.failures.map(String)).toEqual([]);
    expect(result.succeeded).toBe(QUERIES);
    expect(result.sampledPeak).toBeLessThanOrEqual(BUDGET);
    expect(result.sampledPeak).toBeGreaterThan(BUDGET / 2); // the sampler did see the load
    expect(result.samples).toBeGreaterThan(10);
    expect(result.metrics.peakConnections).toBeLessThanOrEqual(BUDGET);
    expect(result.metrics.queries).toBe(QUERIES);
    expect(result.metrics.poolEvictions).toBeGreaterThan(0);
    expect(result.metrics.budgetWaits).toBeGreaterThan(0);
    expect(result.metrics.busyErrors).toBe(0);
    // close() returned only after every connection had closed.
    expect(result.after).toMatchObject({ connections: 0, openPools: 0, openClients: 0 });
  }, 120_000);

  it("holds the budget too when only idle connections are closed ('close-connection'), keeping clients cached", async () => {
    const queries = 1500;
    const result = await hammer('connections', queries, 'close-connection');
    expect(result.failures.map(String)).toEqual([]);
    expect(result.succeeded).toBe(queries);
    expect(result.sampledPeak).toBeLessThanOrEqual(BUDGET);
    expect(result.metrics.peakConnections).toBeLessThanOrEqual(BUDGET);
    expect(result.metrics.poolEvictions).toBe(0);
    expect(result.metrics.clientMisses).toBe(DATABASES);
    expect(result.metrics.clientHits).toBe(queries - DATABASES);
    expect(result.metrics.busyErrors).toBe(0);
    expect(result.after.connections).toBe(0);
  }, 120_000);
});
