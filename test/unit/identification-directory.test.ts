import { describe, expect, it } from 'vitest';
import { makeLogger } from '../../src/infra/logger.js';
import { openTenancyEvents, type TenancyEvents } from '../../src/tenancy/events/index.js';
import { type TenantChain, type TenantRecord } from '../../src/tenancy/identification/identification-types.js';
import { CachedTenantDirectory } from '../../src/tenancy/identification/tenant-directory.js';
import { buildChain, type TenantLookup, type TenantSource } from '../../src/tenancy/identification/tenant-records.js';

const APP_ID = '00000000-0000-4000-8000-000000000001';
const GROUP_ID = '00000000-0000-4000-8000-000000000002';
const TENANT_ID = '00000000-0000-4000-8000-000000000003';

const record = (id: string, level: TenantRecord['level'], parentId: string | null, slug: string): TenantRecord => ({
  id,
  level,
  parentId,
  key: slug,
  slug,
  name: slug,
  status: 'ACTIVE',
  isolation: 'DATABASE',
  databaseName: null,
  schemaName: null,
  maintenance: false,
  maintenanceMessage: null,
  deletedAt: null,
});
const app = record(APP_ID, 'APP', null, 'app');
const group = record(GROUP_ID, 'CENTRAL_TENANT', APP_ID, 'group');
const tenant = record(TENANT_ID, 'TENANT', GROUP_ID, 'clinic');
const chain: TenantChain = { level: 'TENANT', app, group, tenant };

class CountingSource implements TenantSource {
  calls: TenantLookup[] = [];
  result: TenantChain | undefined = chain;
  async find(lookup: TenantLookup) {
    this.calls.push(lookup);
    await new Promise((resolve) => setImmediate(resolve));
    return lookup.value === 'unknown.example.com' ? undefined : this.result;
  }
}

const logger = makeLogger('silent');
const directoryOver = (source: TenantSource, options: { cacheTtlMs?: number; missTtlMs?: number; cacheMax?: number; events?: TenancyEvents } = {}) =>
  new CachedTenantDirectory({
    source,
    logger,
    cacheMax: options.cacheMax ?? 100,
    cacheTtlMs: options.cacheTtlMs ?? 60_000,
    missTtlMs: options.missTtlMs,
    events: options.events,
  });

describe('CachedTenantDirectory (in-process only)', () => {
  it('answers repeated lookups from the LRU without reaching the source', async () => {
    const source = new CountingSource();
    const directory = directoryOver(source);
    expect(await directory.findByDomain('clinic.example.com')).toEqual(chain);
    for (let i = 0; i < 50; i++) await directory.findByDomain('CLINIC.example.com');
    expect(source.calls).toHaveLength(1);
    expect(directory.stats()).toMatchObject({ lruHits: 50, sourceLoads: 1, redisHits: 0 });
    // Keys by kind: the same value by id is another lookup.
    await directory.findById(TENANT_ID);
    await directory.findById(TENANT_ID.toUpperCase());
    expect(source.calls).toEqual([
      { by: 'domain', value: 'clinic.example.com' },
      { by: 'id', value: TENANT_ID },
    ]);
  });

  it('caches unknown lookups, for the shorter miss TTL', async () => {
    const source = new CountingSource();
    const directory = directoryOver(source, { missTtlMs: 30 });
    for (let i = 0; i < 20; i++) expect(await directory.findByDomain('unknown.example.com')).toBeUndefined();
    expect(source.calls).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await directory.findByDomain('unknown.example.com');
    expect(source.calls).toHaveLength(2);
  });

  it('joins concurrent lookups of one key into one source call', async () => {
    const source = new CountingSource();
    const directory = directoryOver(source);
    const results = await Promise.all(Array.from({ length: 25 }, () => directory.findBySlug('clinic')));
    expect(results.every((result) => result === chain)).toBe(true);
    expect(source.calls).toHaveLength(1);
  });

  it('an event for the tenant forgets it, and a lookup in flight during it does not store its stale answer', async () => {
    const source = new CountingSource();
    const events = await openTenancyEvents({ redis: undefined, logger });
    const directory = directoryOver(source, { events });
    await directory.findBySlug('clinic');
    const inFlight = directory.findById(TENANT_ID);
    await events.publish({ type: 'TenantUpdated', tenantId: TENANT_ID });
    source.result = { ...chain, tenant: { ...tenant, name: 'Renamed' } };
    await inFlight;
    expect(((await directory.findById(TENANT_ID)) as Extract<TenantChain, { level: 'TENANT' }>).tenant.name).toBe('Renamed');
    expect(((await directory.findBySlug('clinic')) as Extract<TenantChain, { level: 'TENANT' }>).tenant.name).toBe('Renamed');
    await directory.close();
    await events.close();
  });

  it('stays within cacheMax', async () => {
    const source = new CountingSource();
    const directory = directoryOver(source, { cacheMax: 10 });
    for (let i = 0; i < 30; i++) await directory.findByDomain(`h${i}.example.com`);
    source.calls = [];
    await directory.findByDomain('h0.example.com');
    expect(source.calls).toHaveLength(1); // evicted
    await directory.findByDomain('h29.example.com');
    expect(source.calls).toHaveLength(1); // still cached
  });
});

describe('buildChain', () => {
  it('assembles each level', () => {
    expect(buildChain({ target: app, parent: null, grandparent: null })).toEqual({ level: 'APP', app });
    expect(buildChain({ target: group, parent: app, grandparent: null })).toEqual({ level: 'CENTRAL_TENANT', app, group });
    expect(buildChain({ target: tenant, parent: group, grandparent: app })).toEqual(chain);
  });

  it('refuses a broken hierarchy instead of guessing', () => {
    expect(() => buildChain({ target: tenant, parent: app, grandparent: null })).toThrow(/broken hierarchy/);
    expect(() => buildChain({ target: group, parent: null, grandparent: null })).toThrow(/broken hierarchy/);
    expect(() => buildChain({ target: app, parent: group, grandparent: null })).toThrow(/broken hierarchy/);
  });
});
