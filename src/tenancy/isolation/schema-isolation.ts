import { quoteIdent } from '../../infra/sql-names.js';
import { CLUSTER_MODULES } from '../model.js';
import { type IsolationStrategy, requireNames, type ServerAdmins } from './isolation-strategy.js';

/**
 * TENANT with isolation SCHEMA: schema `<prefix><key>` (and its cluster schemas
 * `<prefix><key>_<module>_<year>`) in one shared tenants database on the tenant's server. Many
 * tenants share one pool, and administration uses the server's kept pool on that database (it lives
 * as long as the server: no connection start per provisioning).
 */
export function makeSchemaIsolation(admins: ServerAdmins, sharedDatabase: string, schemaFor: (key: string) => string): IsolationStrategy {
  const strategy: IsolationStrategy = {
    namesFor: (key) => ({ databaseName: sharedDatabase, schemaName: schemaFor(key) }),
    connectionTarget: (record) => ({ serverUrl: admins.adminFor(record.dbServerId).serverUrl, database: requireNames(record).databaseName, schema: requireNames(record).schemaName, role: record.dbUsername ?? null }),
    async createStorage(record) {
      const admin = admins.adminFor(record.dbServerId);
      const { databaseName, schemaName } = requireNames(record);
      await admin.ensureDatabase(databaseName);
      await admin.withKeptPool(databaseName, (pool) => pool.query(`CREATE SCHEMA ${quoteIdent(schemaName)}`));
    },
    async dropStorage(record) {
      const admin = admins.adminFor(record.dbServerId);
      const { databaseName, schemaName } = requireNames(record);
      if (!(await admin.databaseExists(databaseName))) return;
      await admin.withKeptPool(databaseName, async (pool) => {
        // The tenant schema, exactly its cluster schemas (`<schema>_<module>_<year>`) and what a
        // restore set aside (`…-old-…`). A looser pattern (`<schema>_%`) would also match tenant
        // `x_y`'s schema when dropping tenant `x`.
        const schemas = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname ~ $2 OR nspname ~ $3', [
          schemaName,
          clusterSchemasOf(schemaName),
          setAsideSchemasOf(schemaName),
        ]);
        for (const { nspname } of schemas.rows) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(nspname)} CASCADE`);
      });
    },
    async exists(record) {
      const admin = admins.adminFor(record.dbServerId);
      const { databaseName, schemaName } = requireNames(record);
      if (!(await admin.databaseExists(databaseName))) return false;
      return admin.withKeptPool(databaseName, async (pool) => (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaName])).rowCount === 1);
    },
    withStoragePool: (record, fn) => admins.adminFor(record.dbServerId).withKeptPool(requireNames(record).databaseName, fn),
  };
  return strategy;
}

/** A regular expression matching exactly the cluster schemas of a SCHEMA tenant's schema. */
export function clusterSchemasOf(schemaName: string): string {
  // Schema names come from validated keys: [a-z0-9_] only, nothing to escape.
  return `^${schemaName}_(${CLUSTER_MODULES.join('|')})_[0-9]{4}$`;
}

/** Schemas a restore moved aside (`<schema or cluster schema>-old-<timestamp>`); `-` is never in a key. */
export function setAsideSchemasOf(schemaName: string): string {
  return `^${schemaName}(_(${CLUSTER_MODULES.join('|')})_[0-9]{4})?-old-`;
}
