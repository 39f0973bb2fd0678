/**
 * The Prisma client kinds the registry hands out, one generated client per level schema.
 * Schema clients share their database's pool; the adapter's `schema` option qualifies every
 * table (`"tenant_x"."patients"`), which is what keeps two tenants on one pool apart.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
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
 * The schema a client's adapter qualifies its tables with, kept on the client itself: the few
 * hand-written reads ($queryRaw, which the adapter does not qualify) name their tables with
 * exactly this schema, so they can never read another schema than the client's query builder.
 */
const CLIENT_SCHEMA = Symbol('tenantgraph.clientSchema');

function withSchema<C extends object>(client: C, schema: string): C {
  Object.defineProperty(client, CLIENT_SCHEMA, { value: schema, enumerable: false, writable: false });
  return client;
}

/** The schema `client` was made for (see CLIENT_SCHEMA). Throws for a client not made here. */
export function clientSchema(client: AppClient | GroupClient | TenantClient | ClusterClient): string {
  const schema = (client as unknown as Record<symbol, unknown>)[CLIENT_SCHEMA];
  if (typeof schema !== 'string') throw new Error('This Prisma client was not made by levelClientFactories: its schema is unknown');
  return schema;
}

export const levelClientFactories = {
  app: (pool: pg.Pool, schema: string) => withSchema(new AppClient(options(pool, schema)), schema),
  group: (pool: pg.Pool, schema: string) => withSchema(new GroupClient(options(pool, schema)), schema),
  tenant: (pool: pg.Pool, schema: string) => withSchema(new TenantClient(options(pool, schema)), schema),
  cluster: (pool: pg.Pool, schema: string) => withSchema(new ClusterClient(options(pool, schema)), schema),
};

export type LevelClientKind = keyof typeof levelClientFactories;
