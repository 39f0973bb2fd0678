/**
 * Tenant backups with pg_dump (custom format) and restores that never leave a tenant without data.
 *
 * A backup is three files in `<storageDir>/backups/<slug>/`: `<UTC timestamp>.dump`, its
 * `.dump.sha256` (sha256sum format) and a `.json` manifest (tenant, isolation, schemas, sizes).
 *
 * A restore checks the checksum and the manifest's tenant first (a dump of tenant A is never
 * restored into tenant B), restores into new storage, checks it, and only then switches the tenant
 * to it. The old storage is kept (renamed, with `-` in its name so no tenant key — lower-case letters,
 * digits and `_` — can ever produce it) until `dropOld`. Any failure before the switch drops what the restore made and leaves the
 * tenant on its old data.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quoteIdent } from '../../infra/sql-names.js';
import { type ServerAdmin } from '../isolation/server-admin.js';
import { clusterSchemasOf } from '../isolation/schema-isolation.js';
import { type Isolation } from '../model.js';
import { MIGRATIONS_TABLE } from '../migrator/index.js';
import { assertToolMatchesServer, connectionEnv, connectionOf, PgToolError, run } from './pg-tools.js';
import { inTransaction } from '../../infra/db-transaction.js';

/** What a backup or restore needs to know of a tenant (a `tenants` row of level TENANT). */
export type BackupTenant = { id: string; slug: string; key: string; isolation: Isolation; databaseName: string; schemaName: string };

export type BackupManifest = {
  tenantId: string;
  slug: string;
  isolation: Isolation;
  databaseName: string;
  /** Schemas in the archive (SCHEMA isolation); empty for a whole database. */
  schemas: string[];
  createdAt: string;
  bytes: number;
  sha256: string;
};

export type BackupResult = { file: string; bytes: number; sha256: string; durationMs: number };
export type RestoreResult = { switchedTo: string; keptOld: string | null; durationMs: number };

export class BackupRefusedError extends Error {
  override readonly name = 'BackupRefusedError';
}

export type BackupDeps = {
  /** Administrative access to the tenant's server (DDL, maintenance database). */
  admin: ServerAdmin;
  storageDir: string;
  /** Points the tenant's row at new storage names and tells every process. */
  switchStorage(tenantId: string, names: { databaseName: string; schemaName: string }): Promise<void>;
};

const stamp = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

export async function backupTenant(deps: BackupDeps, tenant: BackupTenant, now = new Date()): Promise<BackupResult> {
  const started = performance.now();
  const schemas = tenant.isolation === 'SCHEMA' ? await schemasOf(deps.admin, tenant) : [];
  await deps.admin.withDatabase(tenant.databaseName, (pool) => assertToolMatchesServer('pg_dump', pool));
  const folder = path.join(path.resolve(deps.storageDir), 'backups', tenant.slug);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `${stamp(now)}.dump`);
  const partial = `${file}.partial`;
  const args = ['--format=custom', '--no-owner', '--no-privileges', `--dbname=${tenant.databaseName}`, `--file=${partial}`, ...schemas.map((schema) => `--schema=${schema}`)];
  const dumped = await run('pg_dump', args, connectionEnv(connectionOf(deps.admin.serverUrl)));
  if (dumped.code !== 0) {
    await rm(partial, { force: true });
    throw new PgToolError(`pg_dump failed for ${tenant.slug}: ${dumped.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  // Complete files only: a crash mid-dump leaves a .partial, never a .dump that looks whole.
  await rename(partial, file);
  const sha256 = await sha256Of(file);
  const bytes = (await stat(file)).size;
  await writeFile(`${file}.sha256`, `${sha256}  ${path.basename(file)}\n`);
  const manifest: BackupManifest = { tenantId: tenant.id, slug: tenant.slug, isolation: tenant.isolation, databaseName: tenant.databaseName, schemas, createdAt: now.toISOString(), bytes, sha256 };
  await writeFile(manifestPath(file), `${JSON.stringify(manifest, null, 2)}\n`);
  return { file, bytes, sha256, durationMs: Math.round(performance.now() - started) };
}

export async function restoreTenant(deps: BackupDeps, tenant: BackupTenant, file: string, options: { dropOld?: boolean; now?: Date } = {}): Promise<RestoreResult> {
  const started = performance.now();
  const manifest = await checkBackup(tenant, path.resolve(file));
  const suffix = stamp(options.now ?? new Date()).toLowerCase();
  await deps.admin.withDatabase(tenant.databaseName, (pool) => assertToolMatchesServer('pg_restore', pool));
  const result = tenant.isolation === 'DATABASE' ? await restoreDatabase(deps, tenant, path.resolve(file), suffix, options.dropOld ?? false) : await restoreSchemas(deps, tenant, manifest, path.resolve(file), suffix, options.dropOld ?? false);
  return { ...result, durationMs: Math.round(performance.now() - started) };
}

/** The archive must be whole (checksum) and of this very tenant (manifest). */
async function checkBackup(tenant: BackupTenant, file: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  let recorded: string;
  try {
    manifest = JSON.parse(await readFile(manifestPath(file), 'utf8')) as BackupManifest;
    recorded = (await readFile(`${file}.sha256`, 'utf8')).trim().split(/\s+/)[0] ?? '';
  } catch (error) {
    throw new BackupRefusedError(`${file} is not a complete tenantgraph backup (its .sha256 and .json files are needed): ${(error as Error).message}`);
  }
  if (manifest.tenantId !== tenant.id) {
    throw new BackupRefusedError(`${file} is a backup of tenant ${manifest.slug} (${manifest.tenantId}), not of ${tenant.slug}: refused`);
  }
  if (manifest.isolation !== tenant.isolation) throw new BackupRefusedError(`${file} was taken with ${manifest.isolation} isolation; the tenant now uses ${tenant.isolation}`);
  const actual = await sha256Of(file).catch((error: Error) => {
    throw new BackupRefusedError(`cannot read ${file}: ${error.message}`);
  });
  if (actual !== recorded || actual !== manifest.sha256) throw new BackupRefusedError(`${file} is corrupt: its checksum does not match; the tenant keeps its current data`);
  return manifest;
}

async function restoreDatabase(deps: BackupDeps, tenant: BackupTenant, file: string, suffix: string, dropOld: boolean) {
  const { admin } = deps;
  const restored = `${tenant.databaseName}-r${suffix}`.slice(0, 63);
  await admin.maintenance(`CREATE DATABASE ${quoteIdent(restored)}`);
  try {
    const output = await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${restored}`, file], connectionEnv(connectionOf(admin.serverUrl)));
    if (output.code !== 0) throw new PgToolError(`pg_restore failed: ${output.stderr.trim().split('\n').slice(-3).join(' ')}`);
    await admin.withDatabase(restored, (pool) => assertRestored(pool, ['public']));
  } catch (error) {
    await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(restored)} WITH (FORCE)`).catch(() => {});
    throw error;
  }
  await deps.switchStorage(tenant.id, { databaseName: restored, schemaName: tenant.schemaName });
  if (dropOld) {
    await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(tenant.databaseName)} WITH (FORCE)`);
    return { switchedTo: restored, keptOld: null };
  }
  return { switchedTo: restored, keptOld: tenant.databaseName };
}

/**
 * SCHEMA tenants share a database, and an archive restores its schemas under their own names. So:
 * restore into a scratch database first and check it there (a bad archive never touches the shared
 * database); then, in the shared database, move the live schemas aside and restore in one
 * transaction, moving them back if that fails.
 */
async function restoreSchemas(deps: BackupDeps, tenant: BackupTenant, manifest: BackupManifest, file: string, suffix: string, dropOld: boolean) {
  const { admin } = deps;
  const env = connectionEnv(connectionOf(admin.serverUrl));
  const scratch = `${tenant.databaseName}-restore-${suffix}`.slice(0, 63);
  await admin.maintenance(`CREATE DATABASE ${quoteIdent(scratch)}`);
  try {
    const checked = await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${scratch}`, file], env);
    if (checked.code !== 0) throw new PgToolError(`pg_restore failed: ${checked.stderr.trim().split('\n').slice(-3).join(' ')}`);
    await admin.withDatabase(scratch, (pool) => assertRestored(pool, [tenant.schemaName]));
  } finally {
    await admin.maintenance(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => {});
  }
  const live = await schemasOf(admin, tenant);
  const aside = (schema: string) => `${schema}-old-${suffix}`.slice(0, 63);
  await admin.withDatabase(tenant.databaseName, async (pool) => {
    await inTransaction(pool, async (client) => {
      for (const schema of live) await client.query(`ALTER SCHEMA ${quoteIdent(schema)} RENAME TO ${quoteIdent(aside(schema))}`);
    });
    const restored = await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${tenant.databaseName}`, file], env);
    if (restored.code !== 0) {
      // Nothing of the archive is left (one transaction); put the live schemas back.
      for (const schema of live) await pool.query(`ALTER SCHEMA ${quoteIdent(aside(schema))} RENAME TO ${quoteIdent(schema)}`);
      throw new PgToolError(`pg_restore failed: ${restored.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    if (dropOld) for (const schema of live) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(aside(schema))} CASCADE`);
  });
  // Same names as before: routing is unchanged, but cached clients and lookups must be dropped.
  await deps.switchStorage(tenant.id, { databaseName: tenant.databaseName, schemaName: tenant.schemaName });
  return { switchedTo: manifest.schemas.join(', '), keptOld: dropOld ? null : live.map(aside).join(', ') };
}

/** A restored tenant has its migrations table with at least one applied migration. */
async function assertRestored(pool: { query: (sql: string) => Promise<{ rows: unknown[] }> }, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) {
    const rows = (await pool.query(`SELECT count(*)::int AS n FROM ${quoteIdent(schema)}.${MIGRATIONS_TABLE}`).catch(() => ({ rows: [] }))).rows as { n: number }[];
    if (!rows[0] || rows[0].n < 1) throw new PgToolError(`the restored data has no ${schema}.${MIGRATIONS_TABLE}: not a tenant backup`);
  }
}

async function schemasOf(admin: ServerAdmin, tenant: BackupTenant): Promise<string[]> {
  return admin.withDatabase(tenant.databaseName, async (pool) => {
    const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname ~ $2 ORDER BY nspname', [
      tenant.schemaName,
      clusterSchemasOf(tenant.schemaName),
    ]);
    return rows.map((row) => row.nspname);
  });
}

function manifestPath(dumpFile: string): string {
  return dumpFile.replace(/\.dump$/, '') + '.json';
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
