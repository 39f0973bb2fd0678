/**
 * The tenant cache, both stores: one tenant's flush leaves another's keys alone, and no key of
 * tenant A is readable through tenant B's cache. The Redis store runs against real Redis, with
 * two "processes" (own connections and event buses) sharing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTenantCacheStore, openTenantCacheStore, RedisTenantCacheStore, tenantCacheKey, tenantGenerationKey, type TenantCacheStore } from '../../src/infra/cache/index.js';
import { makeLogger } from '../../src/infra/logger.js';
import { closeRedis, openRedis, type RedisClient } from '../../src/infra/redis.js';
import { openTenancyEvents, type TenancyEvents } from '../../src/tenancy/events/index.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

const logger = makeLogger('silent');
const redisUrl = testEnv().REDIS_URL;
if (!redisUrl) throw new Error('Redis is needed for the tenant cache tests: set REDIS_URL or install redis-server');

let app: TestApp;
let tenantA: ProvisionedTenant;
let tenantB: ProvisionedTenant;
const opened: { close(): Promise<void> }[] = [];
const connections: RedisClient[] = [];

/** A process's worth of cache: its own Redis connection (or none) and event bus. */
async function openProcess(kind: 'redis' | 'memory'): Promise<{ store: TenantCacheStore; events: TenancyEvents; redis: RedisClient | undefined }> {
  const redis = kind === 'redis' ? openRedis(redisUrl!, logger, { name: 'test-cache' }) : undefined;
  if (redis) connections.push(redis);
  if (redis && redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const events = await openTenancyEvents({ redis, logger });
  const store = openTenantCacheStore({ redis, events, logger });
  opened.push(events, store);
  return { store, events, redis };
}

beforeAll(async () => {
  app = await startTestApp();
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  tenantA = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  tenantB = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
});

afterAll(async () => {
  for (const item of opened.reverse()) await item.close();
  for (const connection of connections) await closeRedis(connection);
  await app?.stop();
});

describe.each(['redis', 'memory'] as const)('tenant cache (%s)', (kind) => {
  it('picks the store that matches the process', async () => {
    const { store } = await openProcess(kind);
    expect(store).toBeInstanceOf(kind === 'redis' ? RedisTenantCacheStore : MemoryTenantCacheStore);
    expect(store.health()).toEqual({ status: 'ok' });
  });

  it("flushing tenant A forgets A's keys and leaves B's untouched", async () => {
    const { store } = await openProcess(kind);
    const a = store.forTenant(tenantA.id);
    const b = store.forTenant(tenantB.id);
    await a.set('profile', { name: 'A' });
    await b.set('profile', { name: 'B' });
    await a.set('counter', 1);
    await b.set('counter', 2);
    expect(await a.get('profile')).toEqual({ name: 'A' });
    expect(await b.get('profile')).toEqual({ name: 'B' });

    await store.flushTenant(tenantA.id);
    expect(await a.get('profile')).toBeUndefined();
    expect(await a.get('counter')).toBeUndefined();
    expect(await b.get('profile')).toEqual({ name: 'B' });
    expect(await b.get('counter')).toBe(2);

    // A's cache works again at its new generation; B's flush does not touch it.
    await a.set('profile', { name: 'A2' });
    await b.flush();
    expect(await a.get('profile')).toEqual({ name: 'A2' });
    expect(await b.get('profile')).toBeUndefined();
  });

  it("no key of tenant A is readable through tenant B's cache", async () => {
    const { store } = await openProcess(kind);
    const a = store.forTenant(tenantA.id);
    const b = store.forTenant(tenantB.id);
    await a.set('secret', 'only for A');
    const generationOfA = kind === 'redis' ? Number((await connections.at(-1)!.get(tenantGenerationKey(tenantA.id))) ?? 0) : 0;
    // The same key, and keys shaped like A's full key or generation, all miss through B.
    for (const key of ['secret', tenantCacheKey(tenantA.id, generationOfA, 'secret'), `${tenantA.id}:${generationOfA}:secret`, `../${tenantA.id}/secret`, `*`]) {
      expect(await b.get(key)).toBeUndefined();
    }
    await b.delete('secret');
    await b.flush();
    expect(await a.get('secret')).toBe('only for A');
    // A tenant id that would make the prefix ambiguous is refused outright.
    expect(() => store.forTenant(`${tenantA.id}:0`)).toThrow(/not a tenant id/);
    expect(() => store.forTenant('')).toThrow(/not a tenant id/);
  });

  it('getOrSet loads once for concurrent callers, and values are copies', async () => {
    const { store } = await openProcess(kind);
    const a = store.forTenant(tenantA.id);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { items: [1, 2, 3] };
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => a.getOrSet('list', 60_000, load)));
    expect(loads).toBe(1);
    expect(results.every((value) => value.items.length === 3)).toBe(true);
    const read = await a.getOrSet('list', 60_000, load);
    expect(loads).toBe(1);
    read.items.push(4);
    expect((await a.get<{ items: number[] }>('list'))!.items).toEqual([1, 2, 3]);
  });

  it('a value loaded while its tenant was flushed is not served after the flush', async () => {
    const { store } = await openProcess(kind);
    const a = store.forTenant(tenantA.id);
    let release: (() => void) | undefined;
    const loading = a.getOrSet('report', 60_000, () => new Promise<string>((resolve) => (release = () => resolve('computed before the flush'))));
    // Until the loader runs (a cache miss first goes to Redis: a fixed 20 ms wait failed on a loaded machine).
    while (!release) await new Promise((resolve) => setTimeout(resolve, 5));
    await a.flush();
    release();
    expect(await loading).toBe('computed before the flush');
    expect(await a.get('report')).toBeUndefined();
  });

  it('honours TTLs', async () => {
    const { store } = await openProcess(kind);
    const a = store.forTenant(tenantA.id);
    // 1 s, not 50 ms: on a loaded machine the read right after the write took longer than 50 ms.
    await a.set('short', 'soon gone', 1000);
    expect(await a.get('short')).toBe('soon gone');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await a.get('short')).toBeUndefined();
    await expect(a.set('bad', 1, 0)).rejects.toThrow(/ttlMs/);
  });
});

describe('tenant cache (redis) across processes', () => {
  it("a flush in one process is seen by the other within 1 s; the other tenant's keys stay readable there", async () => {
    const one = await openProcess('redis');
    const two = await openProcess('redis');
    await one.store.forTenant(tenantA.id).set('menu', 'A menu');
    await one.store.forTenant(tenantB.id).set('menu', 'B menu');
    // Process two reads both, so it holds both generations in memory.
    expect(await two.store.forTenant(tenantA.id).get('menu')).toBe('A menu');
    expect(await two.store.forTenant(tenantB.id).get('menu')).toBe('B menu');

    const started = performance.now();
    await one.store.flushTenant(tenantA.id);
    while ((await two.store.forTenant(tenantA.id).get('menu')) !== undefined && performance.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await two.store.forTenant(tenantB.id).get('menu')).toBe('B menu');
  });

  it('keys are tg:<tenantId>:<generation>:<key> holding JSON, and a flush is one INCR (old keys are left to expire)', async () => {
    const { store, redis } = await openProcess('redis');
    const a = store.forTenant(tenantA.id);
    await a.set('shape', { ok: true }, 60_000);
    const generation = Number((await redis!.get(tenantGenerationKey(tenantA.id))) ?? 0);
    const key = tenantCacheKey(tenantA.id, generation, 'shape');
    expect(key).toBe(`tg:${tenantA.id}:${generation}:shape`);
    expect(await redis!.get(key)).toBe('{"ok":true}');
    expect(await redis!.pttl(key)).toBeGreaterThan(50_000);
    await store.flushTenant(tenantA.id);
    expect(Number(await redis!.get(tenantGenerationKey(tenantA.id)))).toBe(generation + 1);
    expect(await redis!.exists(key)).toBe(1); // unreachable, not deleted: no SCAN
  });
});
