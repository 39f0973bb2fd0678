/**
 * The Prisma client kinds the registry hands out, one generated client per level schema.
 * Schema clients share their database's pool; the adapter's `schema` option qualifies every
 * table (`"tenant_x"."patients"`), which is what keeps two tenants on one pool apart.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient as AppClient } from '../generated/app/client.js';
import { PrismaClient as ClusterClient } from '../generated/cluster/client.js';
import { PrismaClient as GroupClient } from '../generated/group/client.js';
import { PrismaClient as TenantClient } from '../generated/tenant/client.js';

export type { AppClient, ClusterClient, GroupClient, TenantClient };

/**
 * Each client compiles its own query plans (they embed the schema name) and caches up to
 * `queryPlanCacheMaxSize` of them; the default of 1000 is far more than the few dozen query shapes
 * a level has, and with a thousand tenant clients the difference is measurable RSS
 * (about 15% per client, measured with 200 clients).
 */
const PLAN_CACHE = 64;

const options = (pool: pg.Pool, schema: string) => ({ adapter: new PrismaPg(pool, { schema }), queryPlanCacheMaxSize: PLAN_CACHE });

/**
 * The schema a client's adapter qualifies its tables with, and the pool it was made on, kept on
 * the client itself: the few hand-written reads name their tables with exactly this schema and run
 * on exactly this pool, so they can never read another schema, or as another role, than the
 * client's query builder.
 */
const CLIENT_SCHEMA = Symbol('tenantgraph.clientSchema');
const CLIENT_POOL = Symbol('tenantgraph.clientPool');

function stamped<C extends object>(client: C, pool: pg.Pool, schema: string): C {
  Object.defineProperty(client, CLIENT_SCHEMA, { value: schema, enumerable: false, writable: false });
  Object.defineProperty(client, CLIENT_POOL, { value: pool, enumerable: false, writable: false });
  return client;
}

type LevelClient = AppClient | GroupClient | TenantClient | ClusterClient;

/** The schema `client` was made for (see CLIENT_SCHEMA). Throws for a client not made here. */
export function clientSchema(client: LevelClient): string {
  const schema = (client as unknown as Record<symbol, unknown>)[CLIENT_SCHEMA];
  if (typeof schema !== 'string') throw new Error('This Prisma client was not made by levelClientFactories: its schema is unknown');
  return schema;
}

/**
 * Runs one hand-written read on the pool `client` was made on, past Prisma's raw-query machinery
 * (argument mapping, result-set conversion, typed deserialisation, tracing spans: about half the
 * CPU of such a read, see docs/BENCHMARKS.md). Everything that makes it the tenant's statement is
 * the pool's, not Prisma's, so it applies unchanged: the registry's role view (`SET ROLE` to the
 * tenant's role on checkout), the connection budget, the statement tracking that cancels a late
 * request's statements and refuses an answered request's. Rows come as pg parses them with
 * `types` (give date and timestamp parsers that keep Prisma's mapping, see `keepText`).
 */
export async function rawRead<R>(client: LevelClient, text: string, values: readonly unknown[], types?: pg.CustomTypesConfig): Promise<R[]> {
  const pool = (client as unknown as Record<symbol, unknown>)[CLIENT_POOL];
  if (!(pool instanceof pg.Pool)) throw new Error('This Prisma client was not made by levelClientFactories: its pool is unknown');
  const result = await pool.query<R & pg.QueryResultRow>({ text, values: values as unknown[], ...(types ? { types } : {}) });
  return result.rows;
}

/**
 * Type parsers for `rawRead` that hand these column types over as PostgreSQL's text instead of
 * pg's default parse (which reads a `date` in the server process's local time zone); callers map
 * the text as Prisma does (`new Date(text)`: a date is midnight UTC).
 */
export function keepText(...oids: number[]): pg.CustomTypesConfig {
  const kept = new Set(oids);
  const asText = (value: string) => value;
  return {
    getTypeParser: ((oid: number, format?: string) =>
      kept.has(oid) && format !== 'binary' ? asText : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/** OIDs of the built-in types the hand-written reads take as text. */
export const PG_DATE_OID = 1082;
export const PG_TIMESTAMPTZ_OID = 1184;

export const levelClientFactories = {
  app: (pool: pg.Pool, schema: string) => stamped(new AppClient(options(pool, schema)), pool, schema),
  group: (pool: pg.Pool, schema: string) => stamped(new GroupClient(options(pool, schema)), pool, schema),
  tenant: (pool: pg.Pool, schema: string) => stamped(new TenantClient(options(pool, schema)), pool, schema),
  cluster: (pool: pg.Pool, schema: string) => stamped(new ClusterClient(options(pool, schema)), pool, schema),
};

export type LevelClientKind = keyof typeof levelClientFactories;
