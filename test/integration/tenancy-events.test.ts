/**
 * Tenancy events across processes, over real HTTP, PostgreSQL and Redis: process A is the test's
 * own server (startTestApp), process B a second server spawned from src/main.ts (built or through tsx: helpers/entry.ts)
 * on the same database and Redis. Nothing is shared in memory between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServer, type ServerProcess } from '../../bench/processes.js';
import { closeRedis, openRedis, type RedisClient } from '../../src/infra/redis.js';
import { type CachedTenantDirectory, directoryEntryKey, directoryFenceKey } from '../../src/tenancy/identification/tenant-directory.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { postJson, startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';
import { nodeArgs } from '../helpers/entry.js';

const QUERY = '{ patients { edges { node { id } } } }';

let processA: TestApp;
let processB: ServerProcess;
let redis: RedisClient;
let group: ProvisionedTenant;
let clinicX: ProvisionedTenant & { domain: string };
let clinicY: ProvisionedTenant & { domain: string };
const tokens = new Map<string, string>();

beforeAll(async () => {
  // Long TTLs: anything seen below within a second came from an event, not from expiry.
  processA = await startTestApp({ TENANT_CACHE_TTL_MS: '600000' });
  const hierarchy = await makeHierarchy(processA.tenancy, 1);
  group = hierarchy.groups[0]!;
  clinicX = await makeClinic(processA.tenancy, group, 'SCHEMA', { clusterYears: [] });
  clinicY = await makeClinic(processA.tenancy, group, 'SCHEMA', { clusterYears: [] });
  for (const clinic of [clinicX, clinicY]) tokens.set(clinic.id, await processA.token({ subject: `admin-${clinic.key}`, tenantId: clinic.id, roles: ['admin'] }));
  redis = openRedis(testEnv().REDIS_URL!, processA.tenancy.logger, { name: 'test-inspector' });
  // Provisioning just invalidated them: wait out the fence so that lookups are shared in Redis.
  for (const clinic of [clinicX, clinicY]) {
    while ((await redis.exists(directoryFenceKey(clinic.id))) === 1) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const port = await freePort();
  processB = await startServer({
    name: 'process B',
    args: nodeArgs('src/main.ts'),
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...testEnv(), PORT: String(port), LOG_LEVEL: 'warn', TENANT_CACHE_TTL_MS: '600000' },
    port,
    ready: { path: '/health/ready' },
  });
}, 120_000);

afterAll(async () => {
  await processB?.stop();
  if (redis) await closeRedis(redis);
  await processA?.stop();
});

async function ask(port: number, clinic: ProvisionedTenant): Promise<{ status: number; code: unknown }> {
  const response = await postJson(port, '/graphql', { query: QUERY }, { authorization: `Bearer ${tokens.get(clinic.id)!}` });
  return { status: response.status, code: response.body.errors?.[0]?.extensions?.code ?? null };
}

const directoryOf = (app: TestApp) => app.tenancy.directory as CachedTenantDirectory;

describe('tenancy events between two server processes', () => {
  it('a clinic suspended through process A answers TENANT_SUSPENDED on process B within 1 s; its sibling is untouched', async () => {
    // Both clinics served (and cached) by both processes.
    for (const port of [processA.port, processB.port]) {
      for (const clinic of [clinicX, clinicY]) expect(await ask(port, clinic)).toEqual({ status: 200, code: null });
    }
    expect(await redis.exists(directoryEntryKey({ by: 'id', value: clinicX.id }))).toBe(1);
    expect(await redis.exists(directoryEntryKey({ by: 'id', value: clinicY.id }))).toBe(1);
    const loadsBefore = directoryOf(processA).stats().sourceLoads;

    await processA.tenancy.central.query("UPDATE tenants SET status = 'SUSPENDED', updated_at = now() WHERE id = $1", [clinicX.id]);
    const started = performance.now();
    await processA.tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: clinicX.id, from: 'ACTIVE', to: 'SUSPENDED' });

    let seenAfter: number | undefined;
    while (performance.now() - started < 5_000) {
      const answer = await ask(processB.port, clinicX);
      if (answer.code === 'TENANT_SUSPENDED') {
        expect(answer.status).toBe(403);
        seenAfter = performance.now() - started;
        break;
      }
      expect(answer).toEqual({ status: 200, code: null });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(seenAfter, `process B still served the suspended clinic after 5 s:\n${processB.output()}`).toBeDefined();
    expect(seenAfter!).toBeLessThan(1_000);
    expect(await ask(processA.port, clinicX)).toEqual({ status: 403, code: 'TENANT_SUSPENDED' });

    // Per tenant: X's shared entry is gone, Y's stays; Y is still answered from A's LRU.
    expect(await redis.exists(directoryEntryKey({ by: 'id', value: clinicX.id }))).toBe(0);
    expect(await redis.exists(directoryEntryKey({ by: 'id', value: clinicY.id }))).toBe(1);
    expect(await ask(processA.port, clinicY)).toEqual({ status: 200, code: null });
    expect(await ask(processB.port, clinicY)).toEqual({ status: 200, code: null });
    expect(directoryOf(processA).stats().sourceLoads - loadsBefore).toBe(1); // X, reloaded once

    // And back: reactivation travels the same way.
    await processA.tenancy.central.query("UPDATE tenants SET status = 'ACTIVE', updated_at = now() WHERE id = $1", [clinicX.id]);
    await processA.tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: clinicX.id, from: 'SUSPENDED', to: 'ACTIVE' });
    const back = performance.now();
    while ((await ask(processB.port, clinicX)).code !== null && performance.now() - back < 5_000) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(performance.now() - back).toBeLessThan(1_000);
  });

  it("a group's change reaches its clinics' cached chains in the other process", async () => {
    for (const clinic of [clinicX, clinicY]) expect(await ask(processB.port, clinic)).toEqual({ status: 200, code: null });
    await processA.tenancy.central.query("UPDATE tenants SET status = 'SUSPENDED', updated_at = now() WHERE id = $1", [group.id]);
    try {
      const started = performance.now();
      await processA.tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: group.id, from: 'ACTIVE', to: 'SUSPENDED' });
      const seen = new Set<string>();
      while (seen.size < 2 && performance.now() - started < 5_000) {
        for (const clinic of [clinicX, clinicY]) {
          const answer = await ask(processB.port, clinic);
          if (answer.code !== null) {
            expect(answer.code).toBe('TENANT_SUSPENDED');
            seen.add(clinic.id);
          }
        }
      }
      expect(seen.size).toBe(2);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await processA.tenancy.central.query("UPDATE tenants SET status = 'ACTIVE', updated_at = now() WHERE id = $1", [group.id]);
      await processA.tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: group.id, from: 'SUSPENDED', to: 'ACTIVE' });
    }
  });

  it("a plan change through process A reaches process B's plan-module cache within 1 s", async () => {
    const visits = async () => {
      const response = await postJson(processB.port, '/graphql', { query: '{ visits(year: 2026) { id } }' }, { authorization: `Bearer ${tokens.get(clinicY.id)!}` });
      return response.body.errors?.[0]?.message ?? '';
    };
    const notInPlan = /EMR module is not part of this tenant's plan/;
    expect(await visits()).not.toMatch(notInPlan); // no plan: every module (B has cached that)
    const planKey = `pos_only_${clinicY.key}`;
    const plan = await processA.tenancy.central.query<{ id: string }>(`INSERT INTO plans (key, name, modules) VALUES ($1, 'POS only', '["pos"]') RETURNING id`, [planKey]);
    await processA.tenancy.central.query('UPDATE tenants SET plan_id = $1, updated_at = now() WHERE id = $2', [plan.rows[0]!.id, clinicY.id]);
    const started = performance.now();
    await processA.tenancy.events.publish({ type: 'TenantUpdated', tenantId: clinicY.id });
    while (!notInPlan.test(await visits()) && performance.now() - started < 5_000) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
