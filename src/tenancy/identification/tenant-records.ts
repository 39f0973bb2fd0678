/**
 * Reading tenant chains from the central database: one query per lookup, joining the tenant to its
 * parent and grandparent. Plain SQL on the central pool; no caching here (see tenant-directory.ts).
 */
import type pg from 'pg';
import { z } from 'zod';
import { ISOLATIONS, SLUG_PATTERN, TENANT_LEVELS, TENANT_STATUSES, UUID_PATTERN } from '../model.js';
import { type TenantChain, type TenantRecord } from './identification-types.js';

/** How a tenant is looked up. Domains are compared exactly (they are stored lower-case). */
export type TenantLookup = { by: 'id' | 'slug' | 'domain'; value: string };

/** Where tenant chains come from; the cached directory wraps one. */
export interface TenantSource {
  /** The chain of the tenant (any level), deleted or not, whatever its status; undefined when unknown. */
  find(lookup: TenantLookup): Promise<TenantChain | undefined>;
}

export const tenantRecordSchema = z.object({
  id: z.string(),
  level: z.enum(TENANT_LEVELS),
  parentId: z.string().nullable(),
  key: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(TENANT_STATUSES),
  isolation: z.enum(ISOLATIONS),
  databaseName: z.string().nullable(),
  schemaName: z.string().nullable(),
  dbServerId: z.string().nullable().optional(),
  dbUsername: z.string().nullable().optional(),
  maintenance: z.boolean(),
  maintenanceMessage: z.string().nullable(),
  // Chains cached in Redis before the column was read carry no zone: they mean UTC.
  timezone: z.string().default('UTC'),
  deletedAt: z.string().nullable(),
}) satisfies z.ZodType<TenantRecord>;

/** Validates a chain that came back from outside the process (Redis). */
export const tenantChainSchema = z.discriminatedUnion('level', [
  z.object({ level: z.literal('APP'), app: tenantRecordSchema }),
  z.object({ level: z.literal('CENTRAL_TENANT'), app: tenantRecordSchema, group: tenantRecordSchema }),
  z.object({ level: z.literal('TENANT'), app: tenantRecordSchema, group: tenantRecordSchema, tenant: tenantRecordSchema }),
]) satisfies z.ZodType<TenantChain>;

/** Only the columns identification needs: never credentials, since chains are cached in Redis. */
const recordJson = (alias: string) => `CASE WHEN ${alias}.id IS NULL THEN NULL ELSE json_build_object(
    'id', ${alias}.id, 'level', ${alias}.level, 'parentId', ${alias}.parent_id, 'key', ${alias}.key,
    'slug', ${alias}.slug, 'name', ${alias}.name, 'status', ${alias}.status, 'isolation', ${alias}.isolation,
    'databaseName', ${alias}.database_name, 'schemaName', ${alias}.schema_name, 'dbServerId', ${alias}.db_server_id, 'dbUsername', ${alias}.db_username,
    'maintenance', ${alias}.maintenance, 'maintenanceMessage', ${alias}.maintenance_message, 'timezone', ${alias}.timezone,
    'deletedAt', ${alias}.deleted_at) END`;

const SELECT_CHAIN = `SELECT ${recordJson('t')} AS target, ${recordJson('p')} AS parent, ${recordJson('g')} AS grandparent`;
const JOIN_ANCESTORS = 'LEFT JOIN tenants p ON p.id = t.parent_id LEFT JOIN tenants g ON g.id = p.parent_id';

const QUERIES: Record<TenantLookup['by'], string> = {
  id: `${SELECT_CHAIN} FROM tenants t ${JOIN_ANCESTORS} WHERE t.id = $1`,
  slug: `${SELECT_CHAIN} FROM tenants t ${JOIN_ANCESTORS} WHERE t.slug = $1`,
  domain: `${SELECT_CHAIN} FROM domains d JOIN tenants t ON t.id = d.tenant_id ${JOIN_ANCESTORS} WHERE d.domain = $1`,
};

/** REQUIRE_VERIFIED_DOMAINS: an unverified domain row is as good as none. */
const VERIFIED_DOMAIN_QUERY = `${QUERIES.domain} AND d.is_verified`;

/** Host names as they reach lookups: lower-case, port stripped; `[` `]` `:` for IPv6 literals. */
const DOMAIN_PATTERN = /^[a-z0-9._:[\]-]{1,253}$/;

type ChainRow = { target: unknown; parent: unknown; grandparent: unknown };

/** A lookup value that cannot match any row (a non-uuid id, a malformed slug) is answered without SQL. */
export function isPlausibleLookup(lookup: TenantLookup): boolean {
  switch (lookup.by) {
    case 'id':
      return UUID_PATTERN.test(lookup.value);
    case 'slug':
      return SLUG_PATTERN.test(lookup.value);
    case 'domain':
      return DOMAIN_PATTERN.test(lookup.value);
    default: {
      const unreachable: never = lookup.by;
      throw new Error(`unknown lookup ${String(unreachable)}`);
    }
  }
}

export class PgTenantSource implements TenantSource {
  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly options: { requireVerifiedDomains?: boolean } = {},
  ) {}

  async find(lookup: TenantLookup): Promise<TenantChain | undefined> {
    if (!isPlausibleLookup(lookup)) return undefined;
    const value = lookup.by === 'id' ? lookup.value.toLowerCase() : lookup.value;
    const sql = lookup.by === 'domain' && this.options.requireVerifiedDomains ? VERIFIED_DOMAIN_QUERY : QUERIES[lookup.by];
    const result = await this.pool.query<ChainRow>(sql, [value]);
    const row = result.rows[0];
    return row ? buildChain(row) : undefined;
  }
}

/** Assembles the chain from a target and its ancestors, refusing a hierarchy that breaks DESIGN §1. */
export function buildChain(row: ChainRow): TenantChain {
  const target = tenantRecordSchema.parse(row.target);
  const parent = row.parent === null ? null : tenantRecordSchema.parse(row.parent);
  const grandparent = row.grandparent === null ? null : tenantRecordSchema.parse(row.grandparent);
  const broken = () => new Error(`tenant ${target.id} (${target.level}) has a broken hierarchy in the central database`);
  switch (target.level) {
    case 'APP':
      if (parent) throw broken();
      return { level: 'APP', app: target };
    case 'CENTRAL_TENANT':
      if (parent?.level !== 'APP') throw broken();
      return { level: 'CENTRAL_TENANT', app: parent, group: target };
    case 'TENANT':
      if (parent?.level !== 'CENTRAL_TENANT' || grandparent?.level !== 'APP') throw broken();
      return { level: 'TENANT', app: grandparent, group: parent, tenant: target };
    default: {
      const unreachable: never = target.level;
      throw new Error(`unknown tenant level ${String(unreachable)}`);
    }
  }
}
