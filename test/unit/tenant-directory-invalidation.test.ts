/**
 * Per-tenant invalidation of the directory (in process): an event about tenant X drops the
 * lookups whose chain contains X, and nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeLogger } from '../../src/infra/logger.js';
import { openTenancyEvents } from '../../src/tenancy/events/index.js';
import { type TenantChain, type TenantRecord } from '../../src/tenancy/identification/identification-types.js';
import { CachedTenantDirectory } from '../../src/tenancy/identification/tenant-directory.js';
import { type TenantLookup, type TenantSource } from '../../src/tenancy/identification/tenant-records.js';

const logger = makeLogger('silent');
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const record = (n: number, level: TenantRecord['level'], parent: number | null, slug: string): TenantRecord => ({
  id: id(n),
  level,
  parentId: parent === null ? null : id(parent),
  key: slug.replace(/-/g, '_'),
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

// app ─┬─ group-a ─┬─ clinic-a1
//      │           └─ clinic-a2
//      └─ group-b ─── clinic-b1
const app = record(1, 'APP', null, 'app');
const groupA = record(2, 'CENTRAL_TENANT', 1, 'group-a');
const groupB = record(3, 'CENTRAL_TENANT', 1, 'group-b');
const clinicA1 = record(4, 'TENANT', 2, 'clinic-a1');
const clinicA2 = record(5, 'TENANT', 2, 'clinic-a2');
const clinicB1 = record(6, 'TENANT', 3, 'clinic-b1');
const chains: TenantChain[] = [
  { level: 'APP', app },
  { level: 'CENTRAL_TENANT', app, group: groupA },
  { level: 'CENTRAL_TENANT', app, group: groupB },
  { level: 'TENANT', app, group: groupA, tenant: clinicA1 },
  { level: 'TENANT', app, group: groupA, tenant: clinicA2 },
  { level: 'TENANT', app, group: groupB, tenant: clinicB1 },
];
const target = (chain: TenantChain) => (chain.level === 'APP' ? chain.app : chain.level === 'CENTRAL_TENANT' ? chain.group : chain.tenant);

/** Answers from the table above; counts loads per lookup. */
class TableSource implements TenantSource {
  loads = new Map<string, number>();
  added = new Map<string, TenantChain>();
  async find(lookup: TenantLookup) {
    const key = `${lookup.by}:${lookup.value}`;
    this.loads.set(key, (this.loads.get(key) ?? 0) + 1);
    const added = this.added.get(key); // read when the query starts, like a database snapshot
    await new Promise((resolve) => setImmediate(resolve));
    if (added) return added;
    return chains.find((chain) => {
      const t = target(chain);
      return lookup.by === 'id' ? t.id === lookup.value : lookup.by === 'slug' ? t.slug === lookup.value : `${t.slug}.example.com` === lookup.value;
    });
  }
  total() {
    return [...this.loads.values()].reduce((a, b) => a + b, 0);
  }
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function setUp() {
  const source = new TableSource();
  const events = await openTenancyEvents({ redis: undefined, logger });
  const directory = new CachedTenantDirectory({ source, logger, cacheMax: 1000, cacheTtlMs: 60_000, events });
  opened.push(events, directory);
  // Three lookups per tenant: by id, slug and domain.
  const warm = async () => {
    for (const chain of chains) {
      const t = target(chain);
      await directory.findById(t.id);
      await directory.findBySlug(t.slug);
      await directory.findByDomain(`${t.slug}.example.com`);
    }
  };
  await warm();
  return { source, events, directory, warm };
}

describe('per-tenant invalidation of the tenant directory', () => {
  it("a clinic's status change drops only that clinic's lookups", async () => {
    const { source, events, directory, warm } = await setUp();
    expect(source.total()).toBe(18);
    expect(directory.stats().cachedLookups).toBe(18);
    await events.publish({ type: 'TenantStatusChanged', tenantId: clinicA1.id, from: 'ACTIVE', to: 'SUSPENDED' });
    expect(directory.stats()).toMatchObject({ cachedLookups: 15, droppedLookups: 3, invalidations: 1 });
    await warm();
    expect(source.total()).toBe(21); // clinic-a1's three lookups, nothing else
    expect(source.loads.get(`id:${clinicA1.id}`)).toBe(2);
    expect(source.loads.get(`id:${clinicA2.id}`)).toBe(1);
    expect(source.loads.get(`id:${groupA.id}`)).toBe(1);
  });

  it("a group's change drops the group's lookups and its clinics' chains, not the other group's", async () => {
    const { source, events, directory, warm } = await setUp();
    await events.publish({ type: 'TenantStatusChanged', tenantId: groupA.id, from: 'ACTIVE', to: 'SUSPENDED' });
    expect(directory.stats().droppedLookups).toBe(9); // group-a, clinic-a1, clinic-a2
    await warm();
    expect(source.total()).toBe(27);
    for (const untouched of [app, groupB, clinicB1]) expect(source.loads.get(`slug:${untouched.slug}`)).toBe(1);
    for (const dropped of [groupA, clinicA1, clinicA2]) expect(source.loads.get(`slug:${dropped.slug}`)).toBe(2);
  });

  it("an app's change drops every chain under it", async () => {
    const { events, directory } = await setUp();
    await events.publish({ type: 'TenantUpdated', tenantId: app.id });
    expect(directory.stats().cachedLookups).toBe(0);
  });

  it('events that do not change identity drop nothing', async () => {
    const { events, directory } = await setUp();
    await events.publish({ type: 'TenantMigrated', tenantId: clinicA1.id, target: 'tenant', applied: ['0002_x.sql'] });
    await events.publish({ type: 'ClusterSchemaCreated', tenantId: clinicA1.id, module: 'emr', year: 2026 });
    await events.publish({ type: 'TenantCacheFlushed', tenantId: clinicA1.id });
    expect(directory.stats()).toMatchObject({ cachedLookups: 18, invalidations: 0 });
  });

  it('unknown lookups survive status changes, and are forgotten when a tenant is created or updated', async () => {
    const { source, events, directory } = await setUp();
    const newDomain = 'new-clinic.example.com';
    expect(await directory.findByDomain(newDomain)).toBeUndefined();
    await events.publish({ type: 'TenantStatusChanged', tenantId: clinicB1.id, from: 'ACTIVE', to: 'SUSPENDED' });
    expect(await directory.findByDomain(newDomain)).toBeUndefined();
    expect(source.loads.get(`domain:${newDomain}`)).toBe(1); // still the cached miss
    source.added.set(`domain:${newDomain}`, chains[5]!);
    await events.publish({ type: 'TenantUpdated', tenantId: clinicB1.id });
    expect(target((await directory.findByDomain(newDomain))!).id).toBe(clinicB1.id);
  });

  it('a miss found while a tenant was created is not cached', async () => {
    const { source, events, directory } = await setUp();
    const newDomain = 'just-made.example.com';
    const inFlight = directory.findByDomain(newDomain);
    await events.publish({ type: 'TenantCreated', tenantId: clinicB1.id });
    source.added.set(`domain:${newDomain}`, chains[5]!);
    expect(await inFlight).toBeUndefined();
    expect(target((await directory.findByDomain(newDomain))!).id).toBe(clinicB1.id);
  });

  it('a lookup in flight when one tenant of its chain changes is not cached; others load as usual', async () => {
    const { source, events, directory } = await setUp();
    await events.publish({ type: 'TenantUpdated', tenantId: app.id }); // empty the cache
    const before = source.total();
    const inFlightA = directory.findBySlug(clinicA1.slug);
    const inFlightB = directory.findBySlug(clinicB1.slug);
    await events.publish({ type: 'TenantStatusChanged', tenantId: groupA.id, from: 'ACTIVE', to: 'SUSPENDED' });
    await Promise.all([inFlightA, inFlightB]);
    await directory.findBySlug(clinicA1.slug);
    await directory.findBySlug(clinicB1.slug);
    expect(source.total() - before).toBe(3); // clinic-a1 loaded again, clinic-b1 was stored
  });

  it('LRU eviction keeps the index in step (an evicted lookup is not dropped twice)', async () => {
    const source = new TableSource();
    const events = await openTenancyEvents({ redis: undefined, logger });
    const directory = new CachedTenantDirectory({ source, logger, cacheMax: 2, cacheTtlMs: 60_000, events });
    opened.push(events, directory);
    await directory.findById(clinicA1.id);
    await directory.findById(clinicA2.id);
    await directory.findById(clinicB1.id); // evicts clinic-a1
    await events.publish({ type: 'TenantUpdated', tenantId: groupA.id });
    expect(directory.stats()).toMatchObject({ droppedLookups: 1, cachedLookups: 1 });
  });
});
