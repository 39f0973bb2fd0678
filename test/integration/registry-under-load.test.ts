/**
 * The registry's promise under load, through the whole server: requests spread over 300
 * DATABASE-isolated tenants never make the server hold more than DB_MAX_CONNECTIONS
 * connections, as PostgreSQL itself counts them (pg_stat_activity).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

const BUDGET = 24;
const TENANTS = 300;
const REQUESTS = 1500;

let app: TestApp;
let tokens: string[] = [];
let databasePattern: string;

beforeAll(async () => {
  app = await startTestApp({ DB_MAX_CONNECTIONS: String(BUDGET), DB_POOL_MAX: '3', DB_ACQUIRE_TIMEOUT_MS: '20000' });
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  const started = performance.now();
  const clinics = await mapLimit(Array.from({ length: TENANTS }, (_, i) => i), 4, () =>
    makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [], prefix: 'ld' }),
  );
  process.stdout.write(`provisioned ${TENANTS} DATABASE tenants in ${Math.round(performance.now() - started)} ms\n`);
  tokens = await Promise.all(clinics.map((clinic) => app.token({ subject: 'load', tenantId: clinic.id, roles: ['admin'] })));
  databasePattern = `${clinics[0]!.databaseName!.split('_ld_')[0]}\\_ld\\_%`;
}, 300_000);
afterAll(() => app?.stop());

describe('client registry under load', () => {
  it(`never holds more than DB_MAX_CONNECTIONS=${BUDGET} connections across ${TENANTS} tenant databases`, async () => {
    const monitor = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await monitor.connect();
    let peakSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await monitor.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE $1', [databasePattern]);
        peakSeen = Math.max(peakSeen, rows[0]!.n);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const latencies: number[] = [];
    const failures: string[] = [];
    const started = performance.now();
    try {
      await mapLimit(Array.from({ length: REQUESTS }, (_, i) => i), 64, async () => {
        const token = tokens[Math.floor(Math.random() * tokens.length)]!;
        const t0 = performance.now();
        const { body } = await app.gql('{ patients(first: 5) { edges { node { id } } } }', {}, { authorization: `Bearer ${token}` });
        latencies.push(performance.now() - t0);
        if (body.errors) failures.push(JSON.stringify(body.errors).slice(0, 200));
      });
    } finally {
      sampling = false;
      await sampler;
      await monitor.end();
    }
    const elapsed = performance.now() - started;
    latencies.sort((a, b) => a - b);
    const metrics = app.tenancy.registry.metrics();
    process.stdout.write(
      `registry under load: ${REQUESTS} requests over ${TENANTS} tenants in ${Math.round(elapsed)} ms ` +
        `(${Math.round((REQUESTS / elapsed) * 1000)} req/s), p50 ${Math.round(latencies[Math.floor(latencies.length / 2)]!)} ms, ` +
        `p99 ${Math.round(latencies[Math.floor(latencies.length * 0.99)]!)} ms, peak connections seen ${peakSeen}, ` +
        `registry ${JSON.stringify(metrics)}\n`,
    );
    expect(failures).toEqual([]);
    expect(peakSeen).toBeGreaterThan(0);
    expect(peakSeen).toBeLessThanOrEqual(BUDGET);
    expect(metrics.peakConnections).toBeLessThanOrEqual(BUDGET);
    // 300 databases through a budget of 24: connections were closed to make room, many times.
    expect(metrics.connections).toBeLessThanOrEqual(BUDGET);
    expect(metrics.budgetWaits).toBeGreaterThan(0);
  }, 300_000);
});
