/**
 * Contracts of the client registry (DESIGN §3). The registry hands out Prisma clients per
 * (server, database, schema, kind), sharing one pg.Pool per (server, database), under a global
 * connection budget.
 */
import type pg from 'pg';

/** Where a client connects. Built only from validated keys (see src/tenancy/storage-names.ts). */
export type ConnectionTarget = {
  /** Any postgres:// URL of the server; its database path is replaced by `database`. */
  serverUrl: string;
  database: string;
  /** Schema every query of the client is qualified with (PrismaPg `schema` option). */
  schema: string;
  /**
   * PostgreSQL role the client's statements run as (`SET ROLE` on each connection checkout, see
   * role-pool.ts); null or absent: the login role of `serverUrl`. One role per schema: clients
   * are cached by (database, schema, kind).
   */
  role?: string | null;
};

/** Something the registry can close when it evicts it (a PrismaClient). */
export type DisposableClient = { $disconnect(): Promise<void> };

/** Builds a client of one kind on a shared pool for one schema (the pool already runs as the target's role). */
export type ClientFactory<C extends DisposableClient> = (pool: pg.Pool, schema: string) => C;

/** A client in use. `release()` must be called once when the caller is done (end of request). */
export type Lease<C> = { client: C; release(): void };

export type RegistryLimits = {
  /** Most Prisma clients kept (LRU). Default DB_REGISTRY_MAX_CLIENTS = 1000. */
  maxClients: number;
  /** Most connections of one pool. Default DB_POOL_MAX = 5. */
  poolMax: number;
  /** Most connections of all registry pools together; never exceeded. Default DB_MAX_CONNECTIONS = 80. */
  maxConnections: number;
  /** How long a query waits for a connection slot before failing with DATABASE_BUSY. Default 5000. */
  acquireTimeoutMs: number;
  /** Pools (and their clients) unused this long are closed. Default 60000. */
  idleTtlMs: number;
  /**
   * DB_POOL_ADAPTIVE: while the budget is full or connections wait for it, no pool opens a second
   * connection (its queries wait for its own, up to acquireTimeoutMs), and slots are freed from
   * pools holding more than one connection first: each database in use gets one connection
   * before any gets a second. Default false.
   */
  adaptivePoolCap?: boolean;
  /**
   * With `adaptivePoolCap`: how long a checkout waits for a busy connection of its pool before the
   * pool may open another (it also may once as many checkouts wait as it has connections).
   * Default 10 ms: a backend start costs more than most statements take.
   */
  poolGrowAfterMs?: number;
};

export type RegistryMetrics = {
  clientHits: number;
  clientMisses: number;
  clientEvictions: number;
  poolEvictions: number;
  openPools: number;
  openClients: number;
  /** Physical connections open now (all registry pools). */
  connections: number;
  /** Highest `connections` ever seen. */
  peakConnections: number;
  /** Times a connection had to wait for a budget slot. */
  budgetWaits: number;
  /** Connections waiting for a budget slot now. */
  budgetWaiting: number;
  /** Total ms spent waiting by connections that got a slot; with budgetWaits, an average wait. */
  budgetWaitMs: number;
  /** Longest wait for a slot that ended with one, in ms. */
  longestBudgetWaitMs: number;
  /** Times a wait ended in DATABASE_BUSY. */
  busyErrors: number;
  /** SQL statements sent through registry pools (for N+1 tests). */
  queries: number;
};

/** Marker carried in the message of the error a query gets when no slot frees in time. */
export { DATABASE_BUSY_MARKER } from '../../errors/error-code.js';

/** Client factories by kind, e.g. `{ tenant: (pool, schema) => new PrismaClient(...) }`. */
export type ClientFactories = Record<string, ClientFactory<DisposableClient>>;

export type ClientRegistryOptions<F extends ClientFactories> = {
  factories: F;
  limits: RegistryLimits;
  /** pg `application_name` of every registry connection. Default `'tenantgraph:tenant'`. */
  applicationName?: string;
  /**
   * What is closed first when a connection needs a budget slot and none is free. Default `'close-connection'`.
   * - `'close-pool'`: the least recently leased pool that nobody leases and whose connections are
   *   all idle, whole, with its clients; else one idle connection of another pool.
   * - `'close-connection'`: only idle connections (of unleased pools first, least recently leased
   *   first); pools and clients stay cached until idle eviction or the client LRU drops them.
   *   A PrismaClient costs ~7 ms of CPU and ~1.8 MB of heap to build, so under sustained
   *   pressure this mode avoids rebuilding clients (measured 1.5–1.9x faster with Prisma clients).
   */
  pressureRelief?: 'close-pool' | 'close-connection';
  /**
   * Called before every statement with the connection it goes to (pg.Client) and the statement
   * (pg's first query argument: text or config); may throw to refuse the statement. The server
   * uses it to know which connections a request is using.
   */
  onStatement?: (connection: pg.Client, statement: unknown) => void;
  /** Errors of idle connections and of closing clients. Default: ignored (the next query reports the problem). */
  onPoolError?: (error: Error) => void;
};

export type ClientRegistry<F extends ClientFactories> = {
  /**
   * The client of `kind` for `target`, created on first use. Synchronous and allocation-light:
   * it runs on every request. Call `release()` on the lease when the request is done.
   */
  lease<K extends keyof F>(target: ConnectionTarget, kind: K): Lease<ReturnType<F[K]>>;
  metrics(): RegistryMetrics;
  /**
   * Disconnects every client and ends every pool, leased or not (running queries finish
   * first); resolves once their connections closed, or after 5 s at most. Safe to call twice.
   */
  close(): Promise<void>;
};
