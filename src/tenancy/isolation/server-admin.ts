/**
 * Administrative access to the PostgreSQL server that holds the central database and, for now,
 * every tenant (the db_servers registry adds more servers later). Used for DDL and migrations,
 * never on the request path, so its pools are short-lived and separate from the client registry.
 */
import pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';

export type ServerAdmin = {
  /** URL of the central database; its server is where storage is created. */
  serverUrl: string;
  centralDatabase: string;
  centralPool: pg.Pool;
  /** Runs `fn` with a small pool on `database` of this server, closed afterwards. */
  withDatabase<T>(database: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
  /** Runs one statement in the server's `postgres` maintenance database (CREATE/DROP DATABASE). */
  maintenance(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  databaseExists(database: string): Promise<boolean>;
  /** Creates `database` unless it exists (concurrent creators are fine). */
  ensureDatabase(database: string): Promise<void>;
};

export function makeServerAdmin(serverUrl: string, centralPool: pg.Pool): ServerAdmin {
  const urlFor = (database: string) => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const admin: ServerAdmin = {
    serverUrl,
    centralDatabase: decodeURIComponent(new URL(serverUrl).pathname.slice(1)),
    centralPool,
    async withDatabase(database, fn) {
      const pool = new pg.Pool({ connectionString: urlFor(database), max: 2, application_name: 'tenantgraph:admin' });
      pool.on('error', () => {}); // surfaced by the query that hits it
      try {
        return await fn(pool);
      } finally {
        await pool.end();
      }
    },
    async maintenance(sql, values) {
      const client = new pg.Client({ connectionString: urlFor('postgres'), application_name: 'tenantgraph:admin' });
      await client.connect();
      try {
        return await client.query(sql, values);
      } finally {
        await client.end();
      }
    },
    async databaseExists(database) {
      const result = await centralPool.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
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
