/**
 * What a fleet migration works on: the tenants it selects (with their subtrees) and, per tenant,
 * the migration targets of a level — its own schema, and for CLUSTER every cluster schema it has.
 */
import type pg from 'pg';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { type MigrationTarget } from '../migrator/index.js';
import { CLUSTER_MODULES, TENANT_LEVELS, type ClusterModule, type TenantLevelName } from '../model.js';
import { type Tenancy } from '../tenancy.js';

/** Levels a fleet migration can be limited to: the tenant levels and the yearly cluster schemas. */
export const FLEET_LEVELS = [...TENANT_LEVELS, 'CLUSTER'] as const;
export type FleetLevel = (typeof FLEET_LEVELS)[number];

export type FleetTenant = StorageRecord & { slug: string; status: string };

export class FleetSelectionError extends Error {
  override readonly name = 'FleetSelectionError';
}

const LIVE = "t.status IN ('ACTIVE', 'SUSPENDED') AND t.deleted_at IS NULL";
const COLUMNS = 't.id, t.level, t.key, t.slug, t.status, t.isolation, t.database_name AS "databaseName", t.schema_name AS "schemaName"';
const ORDER = "ORDER BY array_position(ARRAY['APP', 'CENTRAL_TENANT', 'TENANT'], t.level), t.slug";

/** Which tenant levels hold the targets of a fleet level (undefined: every level). */
function levelsOf(level: FleetLevel | undefined): TenantLevelName[] {
  if (!level) return [...TENANT_LEVELS];
  return [level === 'CLUSTER' ? 'TENANT' : level];
}

/**
 * Live tenants to migrate: the given slugs and everything below them (an APP or group slug means
 * its subtree), or every live tenant; only those whose level holds `level`'s targets.
 * Apps first, then groups, then tenants. Unknown slugs are refused before anything runs.
 */
export async function selectFleetTenants(
  central: Pick<pg.Pool, 'query'>,
  selection: { slugs?: readonly string[]; level?: FleetLevel },
): Promise<FleetTenant[]> {
  const levels = levelsOf(selection.level);
  if (!selection.slugs) {
    const { rows } = await central.query<FleetTenant>(`SELECT ${COLUMNS} FROM tenants t WHERE ${LIVE} AND t.level = ANY($1::text[]) ${ORDER}`, [levels]);
    return rows;
  }
  const known = await central.query<{ slug: string }>('SELECT slug FROM tenants WHERE slug = ANY($1::text[])', [selection.slugs]);
  const found = new Set(known.rows.map((row) => row.slug));
  const missing = selection.slugs.filter((slug) => !found.has(slug));
  if (missing.length > 0) throw new FleetSelectionError(`no tenant has the slug ${missing.map((slug) => JSON.stringify(slug)).join(', ')}`);
  const { rows } = await central.query<FleetTenant>(
    `WITH RECURSIVE subtree AS (
       SELECT id FROM tenants WHERE slug = ANY($1::text[])
       UNION SELECT c.id FROM tenants c JOIN subtree s ON c.parent_id = s.id
     )
     SELECT ${COLUMNS} FROM tenants t JOIN subtree USING (id) WHERE ${LIVE} AND t.level = ANY($2::text[]) ${ORDER}`,
    [selection.slugs, levels],
  );
  return rows;
}

/** The existing cluster schemas of a TENANT, read from its database: `emr_2026` or `<schema>_emr_2026`. */
export async function clusterSchemasOf(pool: pg.Pool, record: StorageRecord): Promise<{ schema: string; module: ClusterModule; year: number }[]> {
  // Names are built from validated keys ([a-z0-9_]), so they hold no regular-expression characters.
  const prefix = record.isolation === 'SCHEMA' ? `${record.schemaName}_` : '';
  const pattern = `^${prefix}(${CLUSTER_MODULES.join('|')})_([0-9]{4})$`;
  const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname', [pattern]);
  return rows.map((row) => {
    const [, module, year] = new RegExp(pattern).exec(row.nspname)!;
    return { schema: row.nspname, module: module as ClusterModule, year: Number(year) };
  });
}

/** The migration targets of one tenant for `level` (undefined: its own schema and, for a TENANT, its cluster schemas). */
export async function targetsOf(tenancy: Tenancy, pool: pg.Pool, record: FleetTenant, level: FleetLevel | undefined): Promise<MigrationTarget[]> {
  const own = (name: 'app' | 'group' | 'tenant'): MigrationTarget => ({
    label: `${name}:${record.key}`,
    schema: record.schemaName ?? 'public',
    files: tenancy.migrations[name],
  });
  switch (record.level) {
    case 'APP':
      return level === undefined || level === 'APP' ? [own('app')] : [];
    case 'CENTRAL_TENANT':
      return level === undefined || level === 'CENTRAL_TENANT' ? [own('group')] : [];
    case 'TENANT': {
      const targets: MigrationTarget[] = [];
      if (level === undefined || level === 'TENANT') targets.push(own('tenant'));
      if (level === undefined || level === 'CLUSTER') {
        for (const cluster of await clusterSchemasOf(pool, record)) {
          targets.push({ label: `${cluster.module}:${record.key}:${cluster.year}`, schema: cluster.schema, files: tenancy.migrations[cluster.module] });
        }
      }
      return targets;
    }
    default: {
      const unreachable: never = record.level;
      throw new Error(`unknown level ${String(unreachable)}`);
    }
  }
}

/** Runs `fn` with the tenant's storage pool and its targets for `level`. */
export function withTargets<T>(
  tenancy: Tenancy,
  record: FleetTenant,
  level: FleetLevel | undefined,
  fn: (pool: pg.Pool, targets: MigrationTarget[]) => Promise<T>,
): Promise<T> {
  return tenancy.strategyFor(record).withStoragePool(record, async (pool) => fn(pool, await targetsOf(tenancy, pool, record, level)));
}
