/**
 * Administrative access to one PostgreSQL server: the central one (DATABASE_URL) or a server of
 * the `db_servers` registry (src/tenancy/servers/). Used for DDL and migrations, never on the
 * request path, so its pools are separate from the client registry.
 *
 * Pools on tenant databases are short-lived (`withDatabase`): a connection kept open to a
 * database would block renaming it, cloning it (a template) or dropping it without FORCE. Two
 * kinds of pool are kept instead, because a connection start (~6 ms here, more on a busy server)
 * was a large part of provisioning: the maintenance database's, and `withKeptPool`'s for
 * long-lived databases many tenants share (the SCHEMA tenants' database). Kept connections close
 * after a few idle seconds and on `close()`.
 */
import pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';

export type ServerAdmin = {
  /** An admin URL of this server (credentials included: never log it). Its database path is replaced per use. */
  serverUrl: string;
  /** Runs `fn` with a small pool on `database` of this server, closed afterwards. */
  withDatabase<T>(database: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` with this server's kept pool on `database`: for databases that are never renamed,
   * cloned or dropped without FORCE while the process runs (the shared SCHEMA tenants' database).
   */
  withKeptPool<T>(database: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
  /** Runs one statement in the server's `postgres` maintenance database (CREATE/DROP DATABASE, roles). */
  maintenance(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  databaseExists(database: string): Promise<boolean>;
  /** Creates `database` unless it exists (concurrent creators are fine). */
  ensureDatabase(database: string): Promise<void>;
  /** Ends the kept pools. */
  close(): Promise<void>;
};

/** The central server: also holds the central database, where apps and groups keep their schemas. */
export type CentralServerAdmin = ServerAdmin & {
  centralDatabase: string;
  centralPool: pg.Pool;
};

export function withDatabaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * @param catalogPool a pool on this server used to read pg_database (the central pool for the
 *   central server); without it each check opens one maintenance connection
 */
/** Kept admin connections close after this long unused. */
const KEPT_IDLE_MS = 5_000;
const KEPT_MAX = 8;

export function makeServerAdmin(serverUrl: string, catalogPool?: pg.Pool): ServerAdmin {
  const kept = new Map<string, pg.Pool>();
  const keptPool = (database: string) => {
    let pool = kept.get(database);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: withDatabaseUrl(serverUrl, database),
        // Concurrent provisionings each hold one for a statement (a clone takes ~100 ms); more wait their turn.
        max: KEPT_MAX,
        idleTimeoutMillis: KEPT_IDLE_MS,
        // Idle kept connections never hold a process (a CLI run) open.
        allowExitOnIdle: true,
        application_name: 'tenantgraph:admin',
        connectionTimeoutMillis: 10_000,
      });
      pool.on('error', () => {}); // an idle connection that died is dropped; the next query reconnects
      kept.set(database, pool);
    }
    return pool;
  };
  const admin: ServerAdmin = {
    serverUrl,
    async withDatabase(database, fn) {
      const pool = new pg.Pool({ connectionString: withDatabaseUrl(serverUrl, database), max: 2, application_name: 'tenantgraph:admin' });
      pool.on('error', () => {}); // surfaced by the query that hits it
      try {
        return await fn(pool);
      } finally {
        await pool.end();
      }
    },
    withKeptPool: (database, fn) => fn(keptPool(database)),
    // Statements here never leave session state behind (no SET, no open transaction), so its connections are reused.
    maintenance: (sql, values) => keptPool('postgres').query(sql, values),
    async databaseExists(database) {
      const sql = 'SELECT 1 FROM pg_database WHERE datname = $1';
      const result = catalogPool ? await catalogPool.query(sql, [database]) : await admin.maintenance(sql, [database]);
      return result.rowCount === 1;
    },
    async ensureDatabase(database) {
      if (await admin.databaseExists(database)) return;
      await admin.maintenance(`CREATE DATABASE ${quoteIdent(database)}`).catch((error: { code?: string }) => {
        // 42P04: created meanwhile; 23505: the same race seen on pg_database's unique index.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    },
    async close() {
      const pools = [...kept.values()];
      kept.clear();
      await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
    },
  };
  return admin;
}

export function makeCentralServerAdmin(serverUrl: string, centralPool: pg.Pool): CentralServerAdmin {
  return {
    ...makeServerAdmin(serverUrl, centralPool),
    centralDatabase: decodeURIComponent(new URL(serverUrl).pathname.slice(1)),
    centralPool,
  };
}
