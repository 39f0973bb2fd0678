/**
 * Reading tenant chains from the central database, joining each tenant to its parent and
 * grandparent. Plain SQL on the central pool; no caching here (see tenant-directory.ts).
 *
 * Lookups of one kind that arrive in the same event-loop turn share one statement (`= ANY($1)`):
 * after a restart or a cache expiry, many tenants' first requests come at once, and each statement
 * is a round trip whose socket write alone cost ~0.2 ms of server CPU here (bench cold pass).
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

/** One row per found value, `lookup` naming it (ids, slugs and domains are each unique). */
const QUERIES: Record<TenantLookup['by'], string> = {
  id: `${SELECT_CHAIN}, t.id::text AS lookup FROM tenants t ${JOIN_ANCESTORS} WHERE t.id = ANY($1::uuid[])`,
  slug: `${SELECT_CHAIN}, t.slug AS lookup FROM tenants t ${JOIN_ANCESTORS} WHERE t.slug = ANY($1::text[])`,
  domain: `${SELECT_CHAIN}, d.domain AS lookup FROM domains d JOIN tenants t ON t.id = d.tenant_id ${JOIN_ANCESTORS} WHERE d.domain = ANY($1::text[])`,
};

/** REQUIRE_VERIFIED_DOMAINS: an unverified domain row is as good as none. */
const VERIFIED_DOMAIN_QUERY = `${QUERIES.domain} AND d.is_verified`;

/** Most values in one statement; a larger batch is split. */
const MAX_BATCH = 200;

/** Host names as they reach lookups: lower-case, port stripped; `[` `]` `:` for IPv6 literals. */
const DOMAIN_PATTERN = /^[a-z0-9._:[\]-]{1,253}$/;

type ChainRow = { target: unknown; parent: unknown; grandparent: unknown };

type Waiter = { resolve(chain: TenantChain | undefined): void; reject(error: unknown): void };

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
  /** Values waiting for this turn's statement, per kind; each value's callers share its answer. */
  private readonly pending: Record<TenantLookup['by'], Map<string, Waiter[]>> = { id: new Map(), slug: new Map(), domain: new Map() };

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly options: { requireVerifiedDomains?: boolean } = {},
  ) {}

  find(lookup: TenantLookup): Promise<TenantChain | undefined> {
    if (!isPlausibleLookup(lookup)) return Promise.resolve(undefined);
    const value = lookup.by === 'id' ? lookup.value.toLowerCase() : lookup.value;
    const batch = this.pending[lookup.by];
    // setImmediate, not a microtask: requests whose sockets were read in the same loop turn join one statement.
    if (batch.size === 0) setImmediate(() => this.flush(lookup.by));
    return new Promise((resolve, reject) => {
      const waiters = batch.get(value);
      if (waiters) waiters.push({ resolve, reject });
      else batch.set(value, [{ resolve, reject }]);
    });
  }

  private flush(by: TenantLookup['by']): void {
    const batch = this.pending[by];
    const entries = [...batch];
    batch.clear();
    for (let start = 0; start < entries.length; start += MAX_BATCH) void this.load(by, new Map(entries.slice(start, start + MAX_BATCH)));
  }

  private async load(by: TenantLookup['by'], waiting: Map<string, Waiter[]>): Promise<void> {
    const sql = by === 'domain' && this.options.requireVerifiedDomains ? VERIFIED_DOMAIN_QUERY : QUERIES[by];
    let rows: (ChainRow & { lookup: string })[];
    try {
      rows = (await this.pool.query<ChainRow & { lookup: string }>(sql, [[...waiting.keys()]])).rows;
    } catch (error) {
      for (const waiters of waiting.values()) for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const row of rows) {
      const waiters = waiting.get(row.lookup);
      if (!waiters) continue;
      waiting.delete(row.lookup);
      // A broken hierarchy fails its own lookup only.
      let chain: TenantChain;
      try {
        chain = buildChain(row);
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
        continue;
      }
      for (const waiter of waiters) waiter.resolve(chain);
    }
    for (const waiters of waiting.values()) for (const waiter of waiters) waiter.resolve(undefined);
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
