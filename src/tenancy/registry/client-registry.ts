/**
 * The client registry (DESIGN §3): one client per (server, database, schema, kind), one pg.Pool
 * per (server, database) shared by that database's schema clients, a bounded LRU of clients,
 * reference counting, idle eviction, and a global connection budget that is never exceeded.
 *
 * How the budget holds: every pool creates its connections with a Client class that takes a
 * budget slot before it opens a socket and gives it back when the socket has closed
 * (budgeted-client.ts). When no slot is free, the registry frees one — it ends the least
 * recently used pool that nobody leases and whose connections are all idle, else it closes one
 * idle connection of another pool (option `pressureRelief`) — and the connection waits in FIFO
 * order for the slot, up to `acquireTimeoutMs`, then fails with DATABASE_BUSY.
 */
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { installScramKeyCache } from '../../infra/scram-key-cache.js';
import { makeBudgetedClientClass, type BudgetedClient } from './budgeted-client.js';
import { poolAsRole } from './role-pool.js';
import { BudgetClosedError, ConnectionBudget } from './connection-budget.js';
import {
  DATABASE_BUSY_MARKER,
  type ClientFactories,
  type ClientFactory,
  type ClientRegistry,
  type ClientRegistryOptions,
  type ConnectionTarget,
  type DisposableClient,
  type Lease,
  type RegistryLimits,
  type RegistryMetrics,
} from './registry-types.js';

export const DEFAULT_APPLICATION_NAME = 'tenantgraph:tenant';

/** See the pool's 'connect' listener: the error reaches whoever uses the connection. */
export function ignoreCheckedOutError(): void {}

/** Server URLs as given are cached up to this many; beyond it the cache starts over. */
const MAX_CACHED_SERVER_URLS = 1024;

/** How long `close()` waits for connections to finish closing before it returns anyway. */
const CLOSE_WAIT_MS = 5000;

type ServerEntry = {
  /** The server URL without its database path (credentials included: never log it). */
  key: string;
  url: URL;
  pools: Map<string, PoolEntry>;
  /** Dropped from `servers` after its last pool closed; a cached URL pointing here is stale. */
  dropped: boolean;
};

type PoolEntry = {
  server: ServerEntry;
  database: string;
  pool: pg.Pool;
  /** The pool as each role sees it (role-pool.ts), made once per role; null: the login role. */
  roleViews: Map<string | null, pg.Pool>;
  /** schema → kind → client. Nested maps so the hot path builds no key string. */
  clients: Map<string, Map<PropertyKey, ClientEntry>>;
  leases: number;
  /** Leased or released since the last idle sweep (a flag, so the hot path reads no clock). */
  usedSinceSweep: boolean;
  /** Sweeps in a row that found the pool unused. */
  idleSweeps: number;
  /** Open connections of this pool (added on the pool's 'connect', removed when their slot returns). */
  connections: Set<BudgetedClient>;
  /** Idle-connection closes asked of this pool whose connection has not been handed over yet. */
  steals: number;
  retired: boolean;
  /** Set while something waits for the connections of a retired pool to be gone. */
  onDrained: (() => void) | undefined;
  /** Leases, halved every idle sweep: how much the pool is used lately (adaptive eviction). */
  uses: number;
  /**
   * Adaptive cap: this busy pool may open more connections (its queue got as long as its
   * connections, or a checkout waited GROW_AFTER_MS). Cleared by a checkout that finds no queue.
   */
  mayGrow: boolean;
  /** Adaptive cap: the timer that sets `mayGrow` for a queued checkout. */
  growTimer: NodeJS.Timeout | undefined;
};

type ClientEntry = {
  pool: PoolEntry;
  schema: string;
  kind: PropertyKey;
  client: DisposableClient;
  leases: number;
  /** Still findable through `lease` (in the LRU and the pool's map). */
  cached: boolean;
  disposed: boolean;
};

type RetireReason = 'pressure' | 'idle' | 'close';

class RegistryLease<C> implements Lease<C> {
  readonly client: C;
  /** Bound, so `const { client, release } = lease` works. Calls after the first do nothing. */
  readonly release: () => void;
  private entry: ClientEntry | undefined;

  // Assigned in the constructor: measured ~25x cheaper than a class-field arrow or an object
  // literal with a closure once compiled, and this runs on every request.
  constructor(entry: ClientEntry, onRelease: (entry: ClientEntry) => void) {
    this.client = entry.client as C;
    this.entry = entry;
    this.release = () => {
      const held = this.entry;
      if (held === undefined) return;
      this.entry = undefined;
      onRelease(held);
    };
  }
}

/** Creates a registry. Close it with `close()` when the process shuts down. */
export function createClientRegistry<F extends ClientFactories>(options: ClientRegistryOptions<F>): ClientRegistry<F> {
  const { factories, limits } = options;
  assertLimits(limits);
  // Connections open and close all day here (budget, pool growth): derive each password's SCRAM key once.
  installScramKeyCache();
  const applicationName = options.applicationName ?? DEFAULT_APPLICATION_NAME;
  const closeWholePools = (options.pressureRelief ?? 'close-connection') === 'close-pool';
  const reportError = (error: unknown): void => {
    options.onPoolError?.(error instanceof Error ? error : new Error(String(error)));
  };

  const counters = { clientHits: 0, clientMisses: 0, clientEvictions: 0, poolEvictions: 0, queries: 0 };
  /** Normalised server URL → server. */
  const servers = new Map<string, ServerEntry>();
  /** Server URL exactly as callers pass it → server, so the hot path parses no URL. */
  const serversByUrl = new Map<string, ServerEntry>();
  /** Every open pool, least recently leased first (Map order; re-inserted on lease). */
  const pools = new Map<PoolEntry, true>();
  let newestPool: PoolEntry | undefined;
  /** Clients not yet disconnected, cached or not. */
  const live = new Set<ClientEntry>();
  /** Disconnects and pool ends under way; `close()` waits for them. */
  const pending = new Set<Promise<void>>();
  /** Connections asked to close to free a slot whose slot has not come back yet. */
  let closingConnections = 0;
  /** Idle connections asked of a pool (to close them) not handed over yet. */
  let stealsInFlight = 0;
  let reliefScheduled = false;
  let closed: Promise<void> | undefined;

  const budget = new ConnectionBudget({ max: limits.maxConnections, timeoutMs: limits.acquireTimeoutMs, onWait: relieve });
  const RegistryClient = makeBudgetedClientClass({
    budget,
    onQuery: (client, statement) => {
      counters.queries++;
      options.onStatement?.(client, statement);
    },
    onSlotReleased: (client) => {
      if (client.closingForBudget) closingConnections--;
      const owner = client.owner as PoolEntry | undefined;
      if (owner === undefined) return;
      owner.connections.delete(client);
      if (owner.connections.size === 0) owner.onDrained?.();
    },
  });

  const clients = new LRUCache<ClientEntry, ClientEntry>({
    max: limits.maxClients,
    dispose: (entry, _key, reason) => {
      if (reason === 'evict') counters.clientEvictions++;
      uncache(entry);
    },
  });

  // A pool unused for `sweepsToIdle` sweeps in a row was unused for at least idleTtlMs (and at
  // most one sweep longer).
  const sweepEveryMs = Math.min(Math.max(Math.floor(limits.idleTtlMs / 4), 10), 15_000);
  const sweepsToIdle = Math.max(1, Math.ceil(limits.idleTtlMs / sweepEveryMs));
  const sweeper = setInterval(sweepIdlePools, sweepEveryMs);
  sweeper.unref();

  // ---- leasing (the hot path) ----

  function lease<K extends keyof F>(target: ConnectionTarget, kind: K): Lease<ReturnType<F[K]>> {
    if (closed) throw new Error('The client registry is closed; no new database clients are handed out.');
    const server = serverFor(target.serverUrl);
    let poolEntry = server.pools.get(target.database);
    if (poolEntry === undefined) poolEntry = openPool(server, target.database);
    else if (poolEntry !== newestPool) {
      pools.delete(poolEntry);
      pools.set(poolEntry, true);
      newestPool = poolEntry;
    }
    // Creation below is synchronous: no await between the lookup and the insert, so callers
    // racing for the same key all get the one instance (single-flight by construction).
    let entry = poolEntry.clients.get(target.schema)?.get(kind);
    if (entry === undefined) {
      counters.clientMisses++;
      entry = createClient(poolEntry, target.schema, kind, target.role ?? null);
    } else {
      counters.clientHits++;
      clients.get(entry); // marks it most recently used
    }
    entry.leases++;
    poolEntry.leases++;
    poolEntry.uses++;
    poolEntry.usedSinceSweep = true;
    return new RegistryLease<ReturnType<F[K]>>(entry, releaseEntry);
  }

  function releaseEntry(entry: ClientEntry): void {
    const poolEntry = entry.pool;
    entry.leases--;
    poolEntry.leases--;
    poolEntry.usedSinceSweep = true;
    // An evicted client waits for its last lease: never closed under a running request.
    if (entry.leases === 0 && !entry.cached) disposeClient(entry);
    // A pool nobody leases may now be closable as a whole for a waiting connection.
    if (poolEntry.leases === 0 && uncoveredWaiters() > 0) relieve();
  }

  function serverFor(serverUrl: string): ServerEntry {
    const cached = serversByUrl.get(serverUrl);
    if (cached !== undefined && !cached.dropped) return cached;
    let url: URL;
    try {
      url = new URL(serverUrl);
    } catch {
      // The URL carries credentials: never repeat it.
      throw new Error('ConnectionTarget.serverUrl is not a valid URL (expected postgres://user:password@host:port/database).');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new Error(`ConnectionTarget.serverUrl must be a postgres:// URL, got protocol ${JSON.stringify(url.protocol)}.`);
    }
    // Spellings of one server share its pools.
    url.protocol = 'postgres:';
    if (url.port === '') url.port = '5432';
    url.pathname = '/';
    url.hash = '';
    const key = url.toString();
    let server = servers.get(key);
    if (server === undefined) {
      server = { key, url, pools: new Map(), dropped: false };
      servers.set(key, server);
    }
    if (serversByUrl.size >= MAX_CACHED_SERVER_URLS) serversByUrl.clear();
    serversByUrl.set(serverUrl, server);
    return server;
  }

  function openPool(server: ServerEntry, database: string): PoolEntry {
    const url = new URL(server.url);
    url.pathname = `/${encodeURIComponent(database)}`;
    const pool = new pg.Pool({
      connectionString: url.toString(),
      // Not clamped to maxConnections: a connection beyond the budget waits for a slot and
      // fails with DATABASE_BUSY, instead of queueing in pg-pool without a deadline.
      max: limits.poolMax,
      // Adaptive cap: a query queued in the pool (it may not grow) has a deadline too; pg-pool's
      // timeout error becomes DATABASE_BUSY (capAdaptively). The grace lets the budget's own
      // deadline (acquireTimeoutMs) end a new connection's wait for a slot first.
      ...(limits.adaptivePoolCap ? { connectionTimeoutMillis: limits.acquireTimeoutMs + CONNECT_GRACE_MS } : {}),
      // pg-pool treats 0 as "never": keep closing idle connections even with a zero TTL.
      idleTimeoutMillis: Math.max(limits.idleTtlMs, 1),
      // Idle connections must not keep a CLI process alive; `close()` ends them anyway.
      allowExitOnIdle: true,
      application_name: applicationName,
      Client: RegistryClient,
    });
    // Every PrismaPg adapter on this pool adds an 'error' listener.
    pool.setMaxListeners(0);
    const entry: PoolEntry = {
      server,
      database,
      pool,
      roleViews: new Map(),
      clients: new Map(),
      leases: 0,
      usedSinceSweep: true,
      idleSweeps: 0,
      connections: new Set(),
      steals: 0,
      retired: false,
      onDrained: undefined,
      uses: 0,
      mayGrow: false,
      growTimer: undefined,
    };
    // An idle connection losing its server must not crash the process.
    pool.on('error', reportError);
    pool.on('connect', (client: pg.PoolClient) => {
      // pg-pool listens for errors only on idle connections. One that dies while checked out
      // (the server restarts between a transaction's statements) would emit 'error' with no
      // listener and crash the process; its query or its release reports it instead.
      client.on('error', ignoreCheckedOutError);
      const budgeted = client as unknown as BudgetedClient;
      budgeted.owner = entry;
      entry.connections.add(budgeted);
    });
    pool.on('release', onConnectionReleased);
    if (limits.adaptivePoolCap) capAdaptively(entry);
    server.pools.set(database, entry);
    pools.set(entry, true);
    newestPool = entry;
    return entry;
  }

  function createClient(poolEntry: PoolEntry, schema: string, kind: PropertyKey, role: string | null): ClientEntry {
    const factory = Object.hasOwn(factories, kind) ? (factories as Record<PropertyKey, ClientFactory<DisposableClient>>)[kind] : undefined;
    if (typeof factory !== 'function') throw new Error(`No client factory for kind ${JSON.stringify(String(kind))}.`);
    let view = poolEntry.roleViews.get(role);
    if (view === undefined) {
      view = poolAsRole(poolEntry.pool, role);
      poolEntry.roleViews.set(role, view);
    }
    const client = factory(view, schema);
    const entry: ClientEntry = { pool: poolEntry, schema, kind, client, leases: 0, cached: true, disposed: false };
    let bySchema = poolEntry.clients.get(schema);
    if (bySchema === undefined) {
      bySchema = new Map();
      poolEntry.clients.set(schema, bySchema);
    }
    bySchema.set(kind, entry);
    live.add(entry);
    clients.set(entry, entry); // may evict the least recently used client
    return entry;
  }

  /** Makes a client unfindable; disconnects it now, or at its last release when leased. */
  function uncache(entry: ClientEntry): void {
    if (!entry.cached) return;
    entry.cached = false;
    const bySchema = entry.pool.clients.get(entry.schema);
    if (bySchema?.get(entry.kind) === entry) {
      bySchema.delete(entry.kind);
      if (bySchema.size === 0) entry.pool.clients.delete(entry.schema);
    }
    if (entry.leases === 0) disposeClient(entry);
  }

  function disposeClient(entry: ClientEntry): void {
    if (entry.disposed) return;
    entry.disposed = true;
    live.delete(entry);
    track(Promise.resolve().then(() => entry.client.$disconnect()));
  }

  function track(work: Promise<unknown>): void {
    const settled: Promise<void> = work.then(
      () => {
        pending.delete(settled);
      },
      (error: unknown) => {
        pending.delete(settled);
        reportError(error);
      },
    );
    pending.add(settled);
  }

  // ---- freeing slots for waiting connections ----

  function uncoveredWaiters(): number {
    return budget.waiting - closingConnections - stealsInFlight;
  }

  /** Frees slots until every waiting connection has one coming, or nothing more can be freed. */
  function relieve(): void {
    while (uncoveredWaiters() > 0 && freeOneSlot()) {
      // each round starts closing at least one connection
    }
  }

  /** The budget is full or connections wait for it: no pool should grow past one connection. */
  function budgetUnderPressure(): boolean {
    return budget.waiting > 0 || budget.inUse >= limits.maxConnections;
  }

  /**
   * pg-pool reads `options.max` each time it decides whether to open a connection: read as 1
   * while the budget is under pressure, a pool holding a connection queues its queries for it
   * instead of taking a slot another database needs for its first one.
   *
   * Without pressure a busy pool still grows with patience: only once as many checkouts wait as
   * it has connections, or once one has waited GROW_AFTER_MS. A new connection costs a backend
   * start (5–10 ms of PostgreSQL CPU, plus a SCRAM sign-in) and a budget slot for as long as it
   * lives; the busy one is usually free again within a millisecond. Growing at the first overlap
   * kept pools growing for tens of seconds under many-tenant traffic (docs/BENCHMARKS.md, budget 400).
   */
  function allowedConnections(entry: PoolEntry): number {
    if (budgetUnderPressure()) return 1;
    // pg-pool may ask twice while serving one checkout: the answer depends on nothing that changes in between.
    const open = entry.pool.totalCount;
    return open === 0 || entry.mayGrow ? limits.poolMax : open;
  }

  function capAdaptively(entry: PoolEntry): void {
    const { pool } = entry;
    const options = (pool as unknown as { options: { max: number } }).options;
    Object.defineProperty(options, 'max', { get: () => allowedConnections(entry), configurable: true, enumerable: true });
    type Connect = (callback?: (error: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => unknown;
    const baseConnect = (pool.connect as Connect).bind(pool);
    const asBusy = (error: Error | undefined): Error | undefined =>
      error !== undefined && POOL_TIMEOUT.test(error.message) ? new PoolBusyError(limits.acquireTimeoutMs, { cause: error }) : error;
    // A busy pool's connection would go straight to its next queued query and never be idle for
    // relieve(): while another database waits for its first connection, a pool holding several
    // retires the connection as it comes back (pg-pool ends "expired" clients on release, before
    // serving its queue), and its slot goes to the one waiting.
    const expired = (pool as unknown as { _expired?: Set<pg.PoolClient> })._expired;
    pool.on('release', (error: Error | undefined, client: pg.PoolClient) => {
      if (error || closed || expired === undefined || pool.totalCount <= 1 || uncoveredWaiters() <= 0) return;
      markClosing(client as unknown as BudgetedClient);
      expired.add(client);
    });
    // pg-pool decides again when a connection comes back or a checkout arrives; a checkout queued
    // behind a slow statement gets another look once it has waited GROW_AFTER_MS.
    const pulse = (pool as unknown as { _pulseQueue?: () => void })._pulseQueue?.bind(pool);
    const noteCheckout = () => {
      const waiting = pool.waitingCount;
      const open = pool.totalCount;
      if (waiting === 0) entry.mayGrow = false;
      if (pool.idleCount > 0 || open === 0) return;
      // This checkout queues. A queue as long as the pool's connections lets it grow now; else it
      // may once a checkout has waited GROW_AFTER_MS.
      if (waiting >= open) {
        entry.mayGrow = true;
        return;
      }
      if (entry.growTimer !== undefined || pulse === undefined) return;
      entry.growTimer = setTimeout(() => {
        entry.growTimer = undefined;
        if (closed || entry.retired || pool.waitingCount === 0) return;
        entry.mayGrow = true;
        pulse();
      }, limits.poolGrowAfterMs ?? GROW_AFTER_MS);
      entry.growTimer.unref();
    };
    // pool.query and Prisma's adapter both go through connect().
    (pool as unknown as { connect: Connect }).connect = (callback) => {
      noteCheckout();
      if (callback) return baseConnect((error, client, done) => callback(asBusy(error), client, done));
      return (baseConnect() as Promise<pg.PoolClient>).catch((error: Error) => {
        throw asBusy(error) ?? error;
      });
    };
  }

  /** Least recently leased first: a pool nobody leases, else any pool with an idle connection. */
  function freeOneSlot(): boolean {
    if (limits.adaptivePoolCap) {
      // One connection per database first: a second connection goes before anyone's first.
      for (const entry of pools.keys()) {
        const { pool } = entry;
        if (pool.totalCount > 1 && pool.idleCount > entry.steals && pool.waitingCount === 0) {
          closeIdleConnection(entry);
          return true;
        }
      }
      // Then the least used lately of the pools nobody leases (frequency with decay; the least
      // recently used on a tie), so a busy database keeps its connection through a scan of cold ones.
      let coldest: PoolEntry | undefined;
      for (const entry of pools.keys()) {
        const { pool } = entry;
        if (entry.leases > 0 || pool.idleCount <= entry.steals || pool.waitingCount > 0) continue;
        if (coldest === undefined || entry.uses < coldest.uses) coldest = entry;
      }
      if (coldest !== undefined) {
        if (closeWholePools && coldest.pool.idleCount === coldest.pool.totalCount) retirePool(coldest, 'pressure');
        else closeIdleConnection(coldest);
        return true;
      }
    }
    let unleased: PoolEntry | undefined;
    let leased: PoolEntry | undefined;
    for (const entry of pools.keys()) {
      const { pool } = entry;
      const idle = pool.idleCount;
      if (idle === 0 || pool.waitingCount > 0) continue;
      if (entry.leases > 0) {
        leased ??= entry;
        continue;
      }
      if (closeWholePools && idle === pool.totalCount) {
        retirePool(entry, 'pressure');
        return true;
      }
      unleased ??= entry;
      if (!closeWholePools) break;
    }
    const from = unleased ?? leased;
    if (from === undefined) return false;
    closeIdleConnection(from);
    return true;
  }

  /**
   * pg-pool hands out an idle connection (LIFO) on the next tick when it has one and nobody
   * waits; `release(true)` then destroys it, and its slot returns on 'end'.
   */
  function closeIdleConnection(entry: PoolEntry): void {
    entry.steals++;
    stealsInFlight++;
    entry.pool.connect((error, client, done) => {
      if (entry.steals > 0) {
        entry.steals--;
        stealsInFlight--;
      }
      if (error || client === undefined) return;
      markClosing(client as unknown as BudgetedClient);
      done(true);
    });
  }

  function markClosing(client: BudgetedClient): void {
    if (client.closingForBudget) return;
    client.closingForBudget = true;
    closingConnections++;
  }

  /** A connection went back to its pool: if connections wait for a slot, it may be closable. */
  function onConnectionReleased(error: Error | undefined): void {
    if (error || reliefScheduled || closed || uncoveredWaiters() <= 0) return;
    reliefScheduled = true;
    // After pg-pool filed the connection as idle and the request (typically) released its
    // lease: then a whole pool nobody leases can go, which the registry prefers.
    setImmediate(() => {
      reliefScheduled = false;
      if (!closed) relieve();
    });
  }

  // ---- closing pools ----

  function retirePool(entry: PoolEntry, reason: RetireReason): void {
    if (entry.retired) return;
    entry.retired = true;
    pools.delete(entry);
    if (newestPool === entry) newestPool = undefined;
    const { server } = entry;
    server.pools.delete(entry.database);
    if (server.pools.size === 0) {
      server.dropped = true;
      servers.delete(server.key);
    }
    if (reason !== 'close') counters.poolEvictions++;
    const owned: ClientEntry[] = [];
    for (const bySchema of entry.clients.values()) for (const clientEntry of bySchema.values()) owned.push(clientEntry);
    for (const clientEntry of owned) {
      if (reason !== 'close') counters.clientEvictions++;
      clients.delete(clientEntry); // → uncache → disconnect (leased ones: at their release)
    }
    for (const connection of entry.connections) markClosing(connection);
    stealsInFlight -= entry.steals;
    entry.steals = 0;
    // pool.end() resolves once its connections are asked to close, not once they are closed.
    track(entry.pool.end().then(() => whenDrained(entry)));
  }

  function whenDrained(entry: PoolEntry): Promise<void> {
    if (entry.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      entry.onDrained = resolve;
    });
  }

  function sweepIdlePools(): void {
    for (const entry of pools.keys()) {
      entry.uses /= 2;
      if (entry.leases > 0 || entry.usedSinceSweep) {
        entry.usedSinceSweep = false;
        entry.idleSweeps = 0;
        continue;
      }
      const { pool } = entry;
      if (++entry.idleSweeps >= sweepsToIdle && pool.waitingCount === 0 && pool.idleCount === pool.totalCount) {
        retirePool(entry, 'idle');
      }
    }
  }

  // ---- metrics and shutdown ----

  function metrics(): RegistryMetrics {
    return {
      clientHits: counters.clientHits,
      clientMisses: counters.clientMisses,
      clientEvictions: counters.clientEvictions,
      poolEvictions: counters.poolEvictions,
      openPools: pools.size,
      openClients: live.size,
      connections: budget.inUse,
      peakConnections: budget.peak,
      budgetWaits: budget.waits,
      budgetWaiting: budget.waiting,
      budgetWaitMs: budget.waitedMs,
      longestBudgetWaitMs: budget.longestWaitMs,
      busyErrors: budget.timeouts,
      queries: counters.queries,
    };
  }

  function close(): Promise<void> {
    closed ??= (async () => {
      clearInterval(sweeper);
      budget.close(new BudgetClosedError('The client registry is closed; the query was not sent.'));
      for (const entry of [...pools.keys()]) retirePool(entry, 'close');
      // Leased or already evicted clients too: close means close.
      for (const entry of [...live]) disposeClient(entry);
      // Sockets normally close within milliseconds; a dead network must not hang shutdown.
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
        timer.unref();
      });
      const settle = async () => {
        while (pending.size > 0) await Promise.all(pending);
      };
      await Promise.race([settle(), giveUp]);
      clearTimeout(timer);
    })();
    return closed;
  }

  return { lease, metrics, close };
}

/** See openPool: how much longer than acquireTimeoutMs pg-pool lets a connect take. */
const CONNECT_GRACE_MS = 1000;
/** Adaptive cap: how long a checkout waits for a busy connection before its pool may open another (RegistryLimits.poolGrowAfterMs). */
const GROW_AFTER_MS = 10;

/** pg-pool's words when a queued connect or a new connection ran out of connectionTimeoutMillis. */
const POOL_TIMEOUT = /^timeout exceeded when trying to connect$|^Connection terminated due to connection timeout$/;

/** A query that waited for its pool's connection (the pool may not grow now) past the deadline. */
export class PoolBusyError extends Error {
  override readonly name = 'PoolBusyError';

  constructor(timeoutMs: number, options: { cause: Error }) {
    super(
      `${DATABASE_BUSY_MARKER}: no connection of this database's pool became free within ${timeoutMs} ms; the global budget ` +
        '(DB_MAX_CONNECTIONS) is full, so the pool does not grow (DB_POOL_ADAPTIVE). Retry shortly, or raise DB_MAX_CONNECTIONS.',
      options,
    );
  }
}

function assertLimits(limits: RegistryLimits): void {
  for (const name of ['maxClients', 'poolMax', 'maxConnections'] as const) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`registry limit ${name} must be a positive integer, got ${value}`);
  }
  for (const name of ['acquireTimeoutMs', 'idleTtlMs'] as const) {
    const value = limits[name];
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`registry limit ${name} must be a non-negative number, got ${value}`);
  }
}
