import type pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';
import { newTenantClusterYear } from '../cluster-years.js';
import { migrate } from '../migrator/index.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { schemaPrivilegesSql } from '../isolation/tenant-role.js';
import { CLUSTER_MODULES, type ClusterModule } from '../model.js';
import { type Tenancy } from '../tenancy.js';

/**
 * Makes (or brings up to date) a tenant's cluster schemas for one year, e.g. emr_2026, pos_2026.
 * Idempotent: migrating an existing schema applies only what is pending.
 *
 * @param storagePool an admin pool on the tenant's database the caller holds already
 *   (provisioning's, one per attempt); without it one is opened for this call
 */
export async function ensureClusterSchemas(
  tenancy: Tenancy,
  record: StorageRecord,
  year: number,
  modules: readonly ClusterModule[],
  storagePool?: pg.Pool,
): Promise<void> {
  const make = (pool: pg.Pool) =>
    // The modules' schemas are independent (each migration holds its own lock and connection), so
    // they are made side by side on the storage pool.
    Promise.all(
      modules.map((module) => {
        const schema = tenancy.naming.clusterSchema(record, module, year);
        // The tenant's role gets the schema's tables as the migration makes them (default
        // privileges set first, under the migration's lock), never by a scan of all of pg_class.
        const setupSql = record.dbUsername ? schemaPrivilegesSql(record.dbUsername, schema) : undefined;
        return migrate(pool, { label: `${module}:${record.key}:${year}`, schema, files: tenancy.migrations[module], setupSql });
      }),
    );
  if (storagePool) await make(storagePool);
  else await tenancy.strategyFor(record).withStoragePool(record, make);
}

/**
 * A new tenant's cluster schemas: `modules` for each of `years`. Storage made ahead of need carries
 * every module's schema of the current year already — a DATABASE tenant's clone of the template,
 * a SCHEMA tenant's claimed spare (schema-spares.ts): those it wants are kept as they are (granted
 * already), the others dropped, and only what is missing is migrated.
 */
export async function provisionClusterSchemas(
  tenancy: Tenancy,
  record: StorageRecord,
  years: readonly number[],
  modules: readonly ClusterModule[],
  storagePool: pg.Pool,
): Promise<void> {
  const nameOf = (module: ClusterModule, year: number) => tenancy.naming.clusterSchema(record, module, year);
  const candidates = [...new Set([...years, newTenantClusterYear()])].flatMap((year) => CLUSTER_MODULES.map((module) => nameOf(module, year)));
  // Exact names (pg_namespace's name index), never a pattern scan of a database shared by many tenants.
  const { rows } = await storagePool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [candidates]);
  const carried = new Set(rows.map((row) => row.nspname));
  const wanted = new Set(years.flatMap((year) => modules.map((module) => nameOf(module, year))));
  const unwanted = [...carried].filter((schema) => !wanted.has(schema));
  if (unwanted.length > 0) await storagePool.query(unwanted.map((schema) => `DROP SCHEMA ${quoteIdent(schema)} CASCADE`).join(';\n'));
  await Promise.all(
    years.map((year) =>
      ensureClusterSchemas(
        tenancy,
        record,
        year,
        modules.filter((module) => !carried.has(nameOf(module, year))),
        storagePool,
      ),
    ),
  );
}
