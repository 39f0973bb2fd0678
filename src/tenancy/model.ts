/**
 * The tenancy model, defined once: levels, isolation kinds, statuses, cluster modules and the
 * rules for the names that reach storage. The GraphQL enums (src/resolvers/common/tenant-level.enum.ts),
 * zod validation and the SQL CHECK constraints all follow these arrays.
 */

/** Levels of the hierarchy below the landlord (DESIGN §1): APP → CENTRAL_TENANT (group) → TENANT. */
export const TENANT_LEVELS = ['APP', 'CENTRAL_TENANT', 'TENANT'] as const;
export type TenantLevelName = (typeof TENANT_LEVELS)[number];

/** Levels data can live at: the landlord (CENTRAL) and the tenant levels. The argument of @tenantLevel. */
export const DATA_LEVELS = ['CENTRAL', ...TENANT_LEVELS] as const;
export type DataLevel = (typeof DATA_LEVELS)[number];

/** Where a TENANT keeps its data: its own database, or its own schema in a shared database. */
export const ISOLATIONS = ['DATABASE', 'SCHEMA'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** Lifecycle of a tenant row (the `tenants.status` CHECK constraint lists the same values). */
export const TENANT_STATUSES = ['PROVISIONING', 'ACTIVE', 'SUSPENDED', 'FAILED', 'DELETING', 'DELETED'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** Statuses a tenant can be reached in at all (others answer TENANT_NOT_FOUND). */
export const REACHABLE_STATUSES: ReadonlySet<TenantStatus> = new Set(['ACTIVE', 'SUSPENDED']);

/** Yearly module partitions of a tenant: schemas `<module>_<year>`. */
export const CLUSTER_MODULES = ['emr', 'pos', 'scm'] as const;
export type ClusterModule = (typeof CLUSTER_MODULES)[number];

/**
 * Years a cluster schema name may carry at all (a storage-naming safety net). Requests are held
 * to the narrower CLUSTER_YEARS_MIN..next year (src/tenancy/cluster-years.ts).
 */
export const CLUSTER_YEARS = { min: 1900, max: 2100 } as const;

/** Storage keys (`tenants.key`): they name databases and schemas. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]{1,40}$/;
/**
 * Keys that would name storage that is not theirs: a SCHEMA tenant `x`'s cluster schemas are
 * `tenant_x_emr_2026`, which a tenant keyed `x_emr_2026` would own as its main schema; and
 * `tenant_tpl_<fingerprint>` is the template database new DATABASE tenants are cloned from; and
 * `spare_<hex>` keys the spare SCHEMA storage made ahead of need (provisioning/schema-spares.ts).
 * The `tenants_key_not_reserved` CHECK constraint says the same.
 */
/** Keys of spare SCHEMA storage begin so (provisioning/schema-spares.ts). */
export const SPARE_KEY_PREFIX = 'spare_';
export const RESERVED_KEY = new RegExp(`^tpl_|^${SPARE_KEY_PREFIX}|_(${CLUSTER_MODULES.join('|')})_[0-9]{4}$`);
/** Public tenant names (`tenants.slug`): subdomains, X-Tenant, CLI arguments. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The level each level's parent must have (DESIGN §1). */
export const PARENT_LEVEL: Readonly<Record<TenantLevelName, TenantLevelName | null>> = {
  APP: null,
  CENTRAL_TENANT: 'APP',
  TENANT: 'CENTRAL_TENANT',
};

/** `{ A: 'A', B: 'B' }` from `['A', 'B']`: the enum-like object type-graphql registers. */
export function enumObject<const T extends readonly string[]>(values: T): { readonly [K in T[number]]: K } {
  return Object.freeze(Object.fromEntries(values.map((value) => [value, value]))) as { readonly [K in T[number]]: K };
}
