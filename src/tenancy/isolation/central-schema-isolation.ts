import { quoteIdent } from '../../infra/sql-names.js';
import { type IsolationStrategy, requireNames } from './isolation-strategy.js';
import { type CentralServerAdmin } from './server-admin.js';

/** APP and CENTRAL_TENANT levels: a schema (`app_<key>`, `group_<key>`) in the central database. */
export function makeCentralSchemaIsolation(admin: CentralServerAdmin, schemaFor: (key: string) => string): IsolationStrategy {
  return {
    namesFor: (key) => ({ databaseName: admin.centralDatabase, schemaName: schemaFor(key) }),
    connectionTarget: (record) => ({ serverUrl: admin.serverUrl, database: admin.centralDatabase, schema: requireNames(record).schemaName }),
    async createStorage(record) {
      await admin.centralPool.query(`CREATE SCHEMA ${quoteIdent(requireNames(record).schemaName)}`);
    },
    async dropStorage(record) {
      await admin.centralPool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(requireNames(record).schemaName)} CASCADE`);
    },
    async exists(record) {
      const result = await admin.centralPool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [requireNames(record).schemaName]);
      return result.rowCount === 1;
    },
    withStoragePool: (_record, fn) => fn(admin.centralPool),
  };
}
