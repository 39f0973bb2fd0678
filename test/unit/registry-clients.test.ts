/**
 * Client bookkeeping of the registry. No I/O: pg.Pool opens no connection until a query, and
 * these tests send none.
 */
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientRegistry, type ClientRegistry, type ConnectionTarget, type RegistryLimits } from '../../src/tenancy/registry/index.js';

type FakeClient = { id: number; pool: pg.Pool; schema: string; disconnects: number; $disconnect(): Promise<void> };

const SERVER = 'postgres://tenant:secret@127.0.0.1:5432/ignored';
const target = (database: string, schema = 'public', serverUrl = SERVER): ConnectionTarget => ({ serverUrl, database, schema });

let created: FakeClient[] = [];
let open: ClientRegistry<{ fake: (pool: pg.Pool, schema: string) => FakeClient; other: (pool: pg.Pool, schema: string) => FakeClient }>[] = [];

function makeRegistry(overrides: Partial<RegistryLimits> = {}) {
  const fake = (pool: pg.Pool, schema: string): FakeClient => {
    const client: FakeClient = {
      id: created.length,
      pool,
      schema,
      disconnects: 0,
      async $disconnect() {
        client.disconnects++;
      },
    };
    created.push(client);
    return client;
  };
  const registry = createClientRegistry({
    factories: { fake, other: fake },
    limits: { maxClients: 100, poolMax: 2, maxConnections: 10, acquireTimeoutMs: 1000, idleTtlMs: 60_000, ...overrides },
  });
  open.push(registry);
  return registry;
}

afterEach(async () => {
  await Promise.all(open.map((registry) => registry.close()));
  open = [];
  created = [];
});

/** Lets disconnects scheduled by the registry run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('client registry bookkeeping', () => {
  it('hands every caller of one key the same client, created once (single-flight)', () => {
    const registry = makeRegistry();
    const leases = Array.from({ length: 50 }, () => registry.lease(target('db1', 's1'), 'fake'));
    expect(new Set(leases.map((lease) => lease.client)).size).toBe(1);
    expect(created).toHaveLength(1);
    expect(registry.metrics()).toMatchObject({ clientMisses: 1, clientHits: 49, openClients: 1, openPools: 1 });
    for (const lease of leases) lease.release();
  });

  it('keys clients by server (without database), database, schema and kind; shares a pool per database', () => {
    const registry = makeRegistry();
    const a = registry.lease(target('db1', 's1'), 'fake').client;
    const b = registry.lease(target('db1', 's2'), 'fake').client;
    const c = registry.lease(target('db1', 's1'), 'other').client;
    const d = registry.lease(target('db2', 's1'), 'fake').client;
    const e = registry.lease(target('db1', 's1', 'postgres://tenant:secret@127.0.0.1:5432/another'), 'fake').client;
    const f = registry.lease(target('db1', 's1', 'postgres://someone-else:pw@127.0.0.1:5432/x'), 'fake').client;
    const g = registry.lease(target('db1', 's1', 'postgresql://tenant:secret@127.0.0.1/x'), 'fake').client;
    expect(g).toBe(a); // postgresql:// and the default port are the same server
    expect(new Set([a, b, c, d, f]).size).toBe(5);
    expect(e).toBe(a); // the database path of serverUrl does not matter
    expect(b.pool).toBe(a.pool);
    expect(c.pool).toBe(a.pool);
    expect(d.pool).not.toBe(a.pool);
    expect(f.pool).not.toBe(a.pool); // other credentials: another pool
    expect(a.schema).toBe('s1');
    expect(b.schema).toBe('s2');
    expect(registry.metrics().openPools).toBe(3);
    const options = (a.pool as unknown as { options: { max: number; application_name: string } }).options;
    expect(options.max).toBe(2);
    expect(options.application_name).toBe('tenantgraph:tenant');
  });

  it('evicts the least recently used client beyond maxClients, but disconnects a leased one only at release', async () => {
    const registry = makeRegistry({ maxClients: 2 });
    const a = registry.lease(target('db', 'a'), 'fake'); // held
    const b = registry.lease(target('db', 'b'), 'fake');
    b.release();
    const c = registry.lease(target('db', 'c'), 'fake'); // evicts a (least recently used) — but a is leased
    await settle();
    expect(registry.metrics()).toMatchObject({ clientEvictions: 1, openClients: 3 });
    expect(a.client.disconnects).toBe(0);

    // The leased client keeps working for its holder; a new lease of that key gets a new client.
    const aAgain = registry.lease(target('db', 'a'), 'fake'); // evicts b (not leased): disconnected now
    expect(aAgain.client).not.toBe(a.client);
    await settle();
    expect(b.client.disconnects).toBe(1);
    expect(a.client.disconnects).toBe(0);

    a.release();
    await settle();
    expect(a.client.disconnects).toBe(1);
    a.release(); // a second release changes nothing
    await settle();
    expect(a.client.disconnects).toBe(1);
    expect(registry.metrics()).toMatchObject({ clientEvictions: 2, openClients: 2 });
    c.release();
    aAgain.release();
  });

  it('a hit makes a client most recently used', async () => {
    const registry = makeRegistry({ maxClients: 2 });
    const a = registry.lease(target('db', 'a'), 'fake');
    a.release();
    registry.lease(target('db', 'b'), 'fake').release();
    registry.lease(target('db', 'a'), 'fake').release(); // touch a: b is now the oldest
    registry.lease(target('db', 'c'), 'fake').release();
    await settle();
    expect(created.map((client) => [client.schema, client.disconnects])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 0],
    ]);
  });

  it('release works detached from its lease object', () => {
    const registry = makeRegistry();
    const { release } = registry.lease(target('db', 'a'), 'fake');
    release();
    expect(registry.metrics().openClients).toBe(1);
  });

  it('closes pools nobody leased for idleTtlMs, never a leased one', async () => {
    const registry = makeRegistry({ idleTtlMs: 100 });
    const idle = registry.lease(target('db1'), 'fake');
    idle.release();
    const held = registry.lease(target('db2'), 'fake');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(registry.metrics()).toMatchObject({ openPools: 1, poolEvictions: 1, openClients: 1 });
    expect(idle.client.disconnects).toBe(1);
    expect(held.client.disconnects).toBe(0);
    held.release();
    // A lease after eviction opens a fresh pool and client.
    const again = registry.lease(target('db1'), 'fake');
    expect(again.client).not.toBe(idle.client);
    expect(again.client.pool).not.toBe(idle.client.pool);
    again.release();
  });

  it('close() disconnects everything, leased or not, is safe twice, and refuses new leases', async () => {
    const registry = makeRegistry({ maxClients: 1 });
    const a = registry.lease(target('db', 'a'), 'fake');
    registry.lease(target('db', 'b'), 'fake').release(); // a evicted but leased
    await Promise.all([registry.close(), registry.close()]);
    expect(created.map((client) => client.disconnects)).toEqual([1, 1]);
    expect(registry.metrics()).toMatchObject({ openPools: 0, openClients: 0, connections: 0 });
    expect(() => registry.lease(target('db', 'a'), 'fake')).toThrow(/closed/);
    a.release(); // after close: harmless
  });

  it('refuses bad input with clear errors and never echoes credentials', () => {
    const registry = makeRegistry();
    expect(() => registry.lease(target('db', 's', 'not a url with secret'), 'fake')).toThrow(/not a valid URL/);
    expect(() => registry.lease(target('db', 's', 'not a url with secret'), 'fake')).not.toThrow(/secret/);
    expect(() => registry.lease(target('db', 's', 'mysql://u:secret@h/db'), 'fake')).toThrow(/postgres:\/\//);
    expect(() => registry.lease(target('db', 's'), 'nope' as 'fake')).toThrow(/No client factory for kind "nope"/);
    expect(() => registry.lease(target('db', 's'), 'toString' as 'fake')).toThrow(/No client factory/);
    expect(() => makeRegistry({ maxConnections: 0 })).toThrow(/maxConnections/);
  });
});
