/**
 * Administrative access to one PostgreSQL server: the central one (DATABASE_URL) or a server of
 * the `db_servers` registry (src/tenancy/servers/). Used for DDL and migrations, never on the
 * request path, so its pools are short-lived and separate from the client registry.
 */
import pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';

export type ServerAdmin = {
  /** An admin URL of this server (credentials included: never log it). Its database path is replaced per use. */
  serverUrl: string;
  /** Runs `fn` with a small pool on `database` of this server, closed afterwards. */
  withDatabase<T>(database: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
  /** Runs one statement in the server's `postgres` maintenance database (CREATE/DROP DATABASE, roles). */
  maintenance(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  databaseExists(database: string): Promise<boolean>;
  /** Creates `database` unless it exists (concurrent creators are fine). */
  ensureDatabase(database: string): Promise<void>;
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
export function makeServerAdmin(serverUrl: string, catalogPool?: pg.Pool): ServerAdmin {
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
    async maintenance(sql, values) {
      const client = new pg.Client({ connectionString: withDatabaseUrl(serverUrl, 'postgres'), application_name: 'tenantgraph:admin', connectionTimeoutMillis: 10_000 });
      client.on('error', () => {}); // surfaced by the query that hits it
      await client.connect();
      try {
        return await client.query(sql, values);
      } finally {
        await client.end();
      }
    },
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
