import { type MigrationFile, migrate } from '../migrator/index.js';
import { withAdvisoryLock } from '../../infra/advisory-lock.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { fingerprintOf } from '../migration-targets.js';
import { type IsolationStrategy, requireNames, type ServerAdmins } from './isolation-strategy.js';
import { type ServerAdmin } from './server-admin.js';

/**
 * TENANT with isolation DATABASE (the default): its own database `<prefix><key>`, schema public,
 * with cluster schemas `<module>_<year>` beside it.
 *
 * New databases are cloned from a template that already holds the tenant migrations
 * (`<prefix>_tpl_<fingerprint>`), so provisioning costs one CREATE DATABASE instead of replaying
 * every migration. A template is rebuilt when the tenant migrations change (its name carries their
 * fingerprint), and the templates of older sets are dropped then. Each database server gets its
 * own template, built on its first tenant, under an advisory lock in the central database.
 */
export function makeDatabaseIsolation(
  admins: ServerAdmins,
  databaseFor: (key: string) => string,
  templatePrefix: string,
  tenantMigrations: readonly MigrationFile[],
): IsolationStrategy {
  const template = `${templatePrefix}_tpl_${fingerprintOf(tenantMigrations)}`;
  /** Template built (or being built), by server admin URL. */
  const templateReady = new Map<string, Promise<void>>();

  async function buildTemplate(admin: ServerAdmin): Promise<void> {
    // The lock lives in the central database: every process provisioning on this server agrees on it.
    const server = new URL(admin.serverUrl);
    await withAdvisoryLock(admins.central.centralPool, `tenantgraph:template:${server.host}:${template}`, async () => {
      if (await admin.databaseExists(template)) return;
      const building = `${template}_build`;
      await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await admin.maintenance(`CREATE DATABASE ${quoteIdent(building)}`);
      await admin.withDatabase(building, (pool) => migrate(pool, { label: 'tenant:template', files: tenantMigrations }));
      // Renamed only once complete: a half-built template is never cloned.
      await admin.maintenance(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
      await dropOldTemplates(admin);
    });
  }

  /**
   * Templates of other migration sets on this server are dropped once a new one exists. Without
   * FORCE: a template someone is cloning right now stays (and goes with the next rebuild); a
   * process still on the old set finds its template gone and builds it again (createStorage).
   */
  async function dropOldTemplates(admin: ServerAdmin): Promise<void> {
    const { rows } = await admin.maintenance('SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname ~ $2 AND datname <> $3', [
      `${templatePrefix}_tpl_`,
      '^.*_tpl_[0-9a-f]{10}$',
      template,
    ]);
    for (const { datname } of rows as { datname: string }[]) {
      await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(datname)}`).catch(() => {});
    }
  }

  return {
    namesFor: (key) => ({ databaseName: databaseFor(key), schemaName: 'public' }),
    connectionTarget: (record) => ({ serverUrl: admins.adminFor(record.dbServerId).serverUrl, database: requireNames(record).databaseName, schema: 'public', role: record.dbUsername ?? null }),
    async createStorage(record) {
      const admin = admins.adminFor(record.dbServerId);
      const ensureTemplate = () => {
        let ready = templateReady.get(admin.serverUrl);
        if (!ready) {
          ready = buildTemplate(admin).catch((error: unknown) => {
            templateReady.delete(admin.serverUrl);
            throw error;
          });
          templateReady.set(admin.serverUrl, ready);
        }
        return ready;
      };
      await ensureTemplate();
      const { databaseName } = requireNames(record);
      // FILE_COPY copies the small template's files instead of WAL-logging every block (PG 15's
      // default), which measured about twice as fast for provisioning.
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.maintenance(`CREATE DATABASE ${quoteIdent(databaseName)} TEMPLATE ${quoteIdent(template)} STRATEGY FILE_COPY`);
          return;
        } catch (error) {
          const code = (error as { code?: string }).code;
          // 3D000: the template was dropped (a process on another migration set replaced it): build it again.
          if (code === '3D000' && attempt < 3) {
            templateReady.delete(admin.serverUrl);
            await ensureTemplate();
            continue;
          }
          // 55006: another clone of the template is starting; it only takes a moment.
          if (code !== '55006' || attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
        }
      }
    },
    async dropStorage(record) {
      // The database the row names, and the tenant's others: its original name and restores
      // (`<name>-r<timestamp>`; `-` is never in a key, so no other tenant's database matches).
      const admin = admins.adminFor(record.dbServerId);
      const base = databaseFor(record.key);
      const { rows } = await admin.maintenance('SELECT datname FROM pg_database WHERE datname = $1 OR datname = $2 OR starts_with(datname, $3)', [
        requireNames(record).databaseName,
        base,
        `${base}-r`,
      ]);
      for (const { datname } of rows as { datname: string }[]) await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    },
    exists: (record) => admins.adminFor(record.dbServerId).databaseExists(requireNames(record).databaseName),
    withStoragePool: (record, fn) => admins.adminFor(record.dbServerId).withDatabase(requireNames(record).databaseName, fn),
  };
}
