import { migrate } from '../migrator/index.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { grantSchemaToRole } from '../isolation/tenant-role.js';
import { type ClusterModule } from '../model.js';
import { type Tenancy } from '../tenancy.js';

/**
 * Makes (or brings up to date) a tenant's cluster schemas for one year, e.g. emr_2026, pos_2026.
 * Idempotent: migrating an existing schema applies only what is pending.
 */
export async function ensureClusterSchemas(
  tenancy: Tenancy,
  record: StorageRecord,
  year: number,
  modules: readonly ClusterModule[],
): Promise<void> {
  const strategy = tenancy.strategyFor(record);
  await strategy.withStoragePool(record, async (pool) => {
    // The modules' schemas are independent (each migration holds its own lock and connection, and
    // lets go of it before granting), so they are made side by side on the storage pool: about
    // half of provisioning's cluster-schemas step, measured (bench/provisioning.ts).
    await Promise.all(
      modules.map(async (module) => {
        const schema = tenancy.naming.clusterSchema(record, module, year);
        await migrate(pool, { label: `${module}:${record.key}:${year}`, schema, files: tenancy.migrations[module] });
        if (record.dbUsername) await grantSchemaToRole(pool, record.dbUsername, schema);
      }),
    );
  });
}
