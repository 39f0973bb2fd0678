/**
 * Every database and schema name derives from a validated key plus a fixed or configured prefix,
 * and is quoted wherever it reaches SQL (DESIGN §1). Nothing a client sends reaches DDL otherwise.
 */
import { AppError, ErrorCode } from '../errors/index.js';
import { CLUSTER_MODULES, CLUSTER_YEARS, KEY_PATTERN, RESERVED_KEY, SLUG_PATTERN, SPARE_KEY_PREFIX, type ClusterModule, type Isolation } from './model.js';

export function assertKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'A key is 2 to 41 characters: a lower-case letter, then lower-case letters, digits or _', {
      details: { field: 'key' },
    });
  }
  if (RESERVED_KEY.test(key)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'A key may not start with tpl_ or spare_ or end like a cluster schema (_emr_2026): such names belong to other storage', {
      details: { field: 'key' },
    });
  }
}

export function assertSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'A slug is 1 to 63 characters: lower-case letters, digits and -, not starting with -', {
      details: { field: 'slug' },
    });
  }
}

export function assertClusterYear(year: number): void {
  if (!Number.isInteger(year) || year < CLUSTER_YEARS.min || year > CLUSTER_YEARS.max) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `year must be a whole number from ${CLUSTER_YEARS.min} to ${CLUSTER_YEARS.max}`, {
      details: { field: 'year' },
    });
  }
}

/** Where each level of a tenant lives, by name. */
export type StorageNaming = {
  appSchema(key: string): string;
  groupSchema(key: string): string;
  /** Database of a DATABASE-isolated tenant, or schema of a SCHEMA-isolated one. */
  tenantStorage(key: string): string;
  /** The TENANT's own PostgreSQL role: its storage name plus `_role` (cluster-wide, so the prefix matters). */
  tenantRole(key: string): string;
  /** A cluster schema inside a tenant's storage (prefixed by the tenant schema under SCHEMA isolation). */
  clusterSchema(tenant: { isolation: Isolation; schemaName: string | null }, module: ClusterModule, year: number): string;
  /** Schema and role of spare SCHEMA storage (`spare_<16 hex>`, a key no tenant may have). */
  spare(spareKey: string): { schemaName: string; role: string };
  /** A regular expression matching spare schemas (their cluster schemas too), capturing the spare key. */
  spareSchemas: string;
};

const SPARE_KEY_PATTERN = new RegExp(`^${SPARE_KEY_PREFIX}[0-9a-f]{16}$`);

/**
 * @param tenantPrefix prefix of tenant database/schema names; default TENANT_DATABASE_PREFIX = `tenant_`
 */
export function makeStorageNaming(tenantPrefix: string): StorageNaming {
  return {
    appSchema: (key) => (assertKey(key), `app_${key}`),
    groupSchema: (key) => (assertKey(key), `group_${key}`),
    tenantStorage: (key) => (assertKey(key), `${tenantPrefix}${key}`),
    tenantRole: (key) => (assertKey(key), `${tenantPrefix}${key}_role`),
    // Prefixes are [a-z0-9_] (TENANT_DATABASE_PREFIX is validated): nothing to escape.
    spareSchemas: `^${tenantPrefix}(${SPARE_KEY_PREFIX}[0-9a-f]{16})`,
    spare(spareKey) {
      if (!SPARE_KEY_PATTERN.test(spareKey)) throw new Error(`not a spare key: ${spareKey}`);
      return { schemaName: `${tenantPrefix}${spareKey}`, role: `${tenantPrefix}${spareKey}_role` };
    },
    clusterSchema(tenant, module, year) {
      assertClusterYear(year);
      if (!CLUSTER_MODULES.includes(module)) throw new AppError(ErrorCode.BAD_USER_INPUT, `unknown cluster module ${String(module)}`);
      switch (tenant.isolation) {
        case 'DATABASE':
          return `${module}_${year}`;
        case 'SCHEMA':
          if (!tenant.schemaName) throw new Error('SCHEMA-isolated tenant without a schema name');
          return `${tenant.schemaName}_${module}_${year}`;
        default: {
          const unreachable: never = tenant.isolation;
          throw new Error(`unknown isolation ${String(unreachable)}`);
        }
      }
    },
  };
}
