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

const adapterFor = (pool: pg.Pool, schema: string) => new PrismaPg(pool, { schema });

export const levelClientFactories = {
  app: (pool: pg.Pool, schema: string) => new AppClient({ adapter: adapterFor(pool, schema) }),
  group: (pool: pg.Pool, schema: string) => new GroupClient({ adapter: adapterFor(pool, schema) }),
  tenant: (pool: pg.Pool, schema: string) => new TenantClient({ adapter: adapterFor(pool, schema) }),
  cluster: (pool: pg.Pool, schema: string) => new ClusterClient({ adapter: adapterFor(pool, schema) }),
};

export type LevelClientKind = keyof typeof levelClientFactories;
