import type pg from 'pg';
import { migrate } from '../migrator/index.js';
import { withAdvisoryLock } from '../../infra/advisory-lock.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { newTenantClusterYear } from '../cluster-years.js';
import { storageFingerprint, type MigrationSets } from '../migration-targets.js';
import { CLUSTER_MODULES, type ClusterModule } from '../model.js';
import { type IsolationStrategy, requireNames, type ServerAdmins } from './isolation-strategy.js';
import { type ServerAdmin } from './server-admin.js';

/** Templates of other migration sets kept on a server besides the current one (dropOldTemplates). */
const OTHER_TEMPLATES_KEPT = 2;

/** A regular expression matching exactly the cluster schemas in a DATABASE tenant's database. */
export const DATABASE_CLUSTER_SCHEMAS = `^(${CLUSTER_MODULES.join('|')})_[0-9]{4}$`;

/** The cluster schemas in a DATABASE tenant's database, read through an admin pool on it. */
export async function databaseClusterSchemas(pool: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname', [DATABASE_CLUSTER_SCHEMAS]);
  return rows.map((row) => row.nspname);
}

/**
 * The template database for a set of migrations and a year: `<prefix>_tpl_<fingerprint>`, the
 * fingerprint covering the tenant and cluster migrations and the year of the cluster schemas it
 * carries. A new set or a new year makes a new name, hence a new template.
 */
export function databaseTemplateName(templatePrefix: string, migrations: MigrationSets, year: number): string {
  return `${templatePrefix}_tpl_${storageFingerprint(migrations, year)}`;
}

/**
 * TENANT with isolation DATABASE (the default): its own database `<prefix><key>`, schema public,
 * with cluster schemas `<module>_<year>` beside it.
 *
 * New databases are cloned from a template that already holds the tenant migrations and every
 * module's cluster schema of the current year (`databaseTemplateName`), so provisioning costs one
 * CREATE DATABASE instead of replaying migrations; the cluster-schemas step drops what the tenant's
 * plan leaves out. A template is rebuilt when the migrations or the year change (its name carries
 * them), and the templates of other sets are dropped then. Each database server gets its own
 * template, built on its first tenant, under an advisory lock in that server's maintenance database.
 */
export function makeDatabaseIsolation(
  admins: ServerAdmins,
  databaseFor: (key: string) => string,
  templatePrefix: string,
  migrations: MigrationSets,
  /** A cluster schema's name in a DATABASE tenant (storage-names.ts). */
  clusterSchemaFor: (module: ClusterModule, year: number) => string,
): IsolationStrategy {
  /** Template built (or being built), by server admin URL and template name. */
  const templateReady = new Map<string, Promise<void>>();

  async function buildTemplate(admin: ServerAdmin, template: string, year: number): Promise<void> {
    // The lock lives in the server's own maintenance database, not the central one: advisory locks
    // are per database, and every process that builds templates on this server must agree on it,
    // whichever central database it serves (two installations, or test files with their own).
    await admin.withDatabase('postgres', (maintenance) => withAdvisoryLock(maintenance, `tenantgraph:template:${template}`, async () => {
      if (await admin.databaseExists(template)) return;
      const building = `${template}_build`;
      await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await admin.maintenance(`CREATE DATABASE ${quoteIdent(building)}`);
      await admin.withDatabase(building, async (pool) => {
        await migrate(pool, { label: 'tenant:template', files: migrations.tenant });
        for (const module of CLUSTER_MODULES) await migrate(pool, { label: `${module}:template`, schema: clusterSchemaFor(module, year), files: migrations[module] });
      });
      // Renamed only once complete: a half-built template is never cloned.
      await admin.maintenance(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
      await dropOldTemplates(admin, template);
    }));
  }

  /**
   * Templates of other migration sets (or years) on this server are dropped once a new one exists,
   * except the newest OTHER_TEMPLATES_KEPT of them (newest by database OID, which grows with each
   * database made): while two versions of the app run side by side (a rolling deploy, two apps on
   * one server), each keeps the other's template instead of dropping and rebuilding it in turn.
   * Without FORCE: a template someone is cloning right now stays (and goes with a later rebuild); a
   * process whose template is gone builds it again (createStorage).
   */
  async function dropOldTemplates(admin: ServerAdmin, template: string): Promise<void> {
    const { rows } = await admin.maintenance(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname ~ $2 AND datname <> $3 ORDER BY oid DESC OFFSET $4',
      [`${templatePrefix}_tpl_`, '^.*_tpl_[0-9a-f]{10}$', template, OTHER_TEMPLATES_KEPT],
    );
    for (const { datname } of rows as { datname: string }[]) {
      await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(datname)}`).catch(() => {});
    }
  }

  return {
    namesFor: (key) => ({ databaseName: databaseFor(key), schemaName: 'public' }),
    connectionTarget: (record) => ({ serverUrl: admins.adminFor(record.dbServerId).serverUrl, database: requireNames(record).databaseName, schema: 'public', role: record.dbUsername ?? null }),
    async createStorage(record) {
      const admin = admins.adminFor(record.dbServerId);
      const year = newTenantClusterYear();
      const template = databaseTemplateName(templatePrefix, migrations, year);
      const readyKey = `${admin.serverUrl}\n${template}`;
      const ensureTemplate = () => {
        let ready = templateReady.get(readyKey);
        if (!ready) {
          ready = buildTemplate(admin, template, year).catch((error: unknown) => {
            templateReady.delete(readyKey);
            throw error;
          });
          templateReady.set(readyKey, ready);
        }
        return ready;
      };
      await ensureTemplate();
      const { databaseName } = requireNames(record);
      // WAL_LOG (PG 15's default), not FILE_COPY: FILE_COPY forces two checkpoints per clone, which
      // flush every dirty buffer of the whole server — slow and disruptive on a server where other
      // tenants write. bench/provisioning.ts measures both side by side (docs/BENCHMARKS.md): on a
      // quiet server FILE_COPY can be quicker, on a busy one it was 3x slower (115 vs 37 ms).
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.maintenance(`CREATE DATABASE ${quoteIdent(databaseName)} TEMPLATE ${quoteIdent(template)} STRATEGY WAL_LOG`);
          return;
        } catch (error) {
          const code = (error as { code?: string }).code;
          // 3D000: the template was dropped (a process on another migration set replaced it): build it again.
          if (code === '3D000' && attempt < 3) {
            templateReady.delete(readyKey);
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
