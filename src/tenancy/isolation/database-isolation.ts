import { type MigrationFile, migrate } from '../migrator/index.js';
import { withAdvisoryLock } from '../../infra/advisory-lock.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { fingerprintOf } from '../migration-targets.js';
import { type IsolationStrategy, requireNames } from './isolation-strategy.js';
import { type ServerAdmin } from './server-admin.js';

/**
 * TENANT with isolation DATABASE (the default): its own database `<prefix><key>`, schema public,
 * with cluster schemas `<module>_<year>` beside it.
 *
 * New databases are cloned from a template that already holds the tenant migrations
 * (`<prefix>_tpl_<fingerprint>`), so provisioning costs one CREATE DATABASE instead of replaying
 * every migration. A template is rebuilt when the tenant migrations change.
 */
export function makeDatabaseIsolation(
  admin: ServerAdmin,
  databaseFor: (key: string) => string,
  templatePrefix: string,
  tenantMigrations: readonly MigrationFile[],
): IsolationStrategy {
  const template = `${templatePrefix}_tpl_${fingerprintOf(tenantMigrations)}`;
  let templateReady: Promise<void> | undefined;

  async function buildTemplate(): Promise<void> {
    await withAdvisoryLock(admin.centralPool, `tenantgraph:template:${template}`, async () => {
      if (await admin.databaseExists(template)) return;
      const building = `${template}_build`;
      await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await admin.maintenance(`CREATE DATABASE ${quoteIdent(building)}`);
      await admin.withDatabase(building, (pool) => migrate(pool, { label: 'tenant:template', files: tenantMigrations }));
      // Renamed only once complete: a half-built template is never cloned.
      await admin.maintenance(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
    });
  }

  return {
    namesFor: (key) => ({ databaseName: databaseFor(key), schemaName: 'public' }),
    connectionTarget: (record) => ({ serverUrl: admin.serverUrl, database: requireNames(record).databaseName, schema: 'public' }),
    async createStorage(record) {
      templateReady ??= buildTemplate().catch((error: unknown) => {
        templateReady = undefined;
        throw error;
      });
      await templateReady;
      const { databaseName } = requireNames(record);
      // FILE_COPY copies the small template's files instead of WAL-logging every block (PG 15's
      // default), which measured about twice as fast for provisioning.
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.maintenance(`CREATE DATABASE ${quoteIdent(databaseName)} TEMPLATE ${quoteIdent(template)} STRATEGY FILE_COPY`);
          return;
        } catch (error) {
          // 55006: another clone of the template is starting; it only takes a moment.
          if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
        }
      }
    },
    async dropStorage(record) {
      // The database the row names, and the tenant's others: its original name and restores
      // (`<name>-r<timestamp>`; `-` is never in a key, so no other tenant's database matches).
      const base = databaseFor(record.key);
      const { rows } = await admin.centralPool.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR datname = $2 OR starts_with(datname, $3)', [
        requireNames(record).databaseName,
        base,
        `${base}-r`,
      ]);
      for (const { datname } of rows) await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    },
    exists: (record) => admin.databaseExists(requireNames(record).databaseName),
    withStoragePool: (record, fn) => admin.withDatabase(requireNames(record).databaseName, fn),
  };
}
