import type pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';
import { databaseClusterSchemas } from '../isolation/database-isolation.js';
import { migrate } from '../migrator/index.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { schemaPrivilegesSql } from '../isolation/tenant-role.js';
import { type ClusterModule } from '../model.js';
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
 * A new tenant's cluster schemas: `modules` for each of `years`. A DATABASE tenant's clone of the
 * template carries every module's schema of the current year already (database-isolation.ts):
 * those it wants are kept as they are (granted by the role step), the others dropped, and only
 * what is missing is migrated.
 */
export async function provisionClusterSchemas(
  tenancy: Tenancy,
  record: StorageRecord,
  years: readonly number[],
  modules: readonly ClusterModule[],
  storagePool: pg.Pool,
): Promise<void> {
  const carried = record.isolation === 'DATABASE' && record.level === 'TENANT' ? await databaseClusterSchemas(storagePool) : [];
  const wanted = new Set(years.flatMap((year) => modules.map((module) => tenancy.naming.clusterSchema(record, module, year))));
  const unwanted = carried.filter((schema) => !wanted.has(schema));
  if (unwanted.length > 0) await storagePool.query(unwanted.map((schema) => `DROP SCHEMA ${quoteIdent(schema)} CASCADE`).join(';\n'));
  await Promise.all(
    years.map((year) =>
      ensureClusterSchemas(
        tenancy,
        record,
        year,
        modules.filter((module) => !carried.includes(tenancy.naming.clusterSchema(record, module, year))),
        storagePool,
      ),
    ),
  );
}
