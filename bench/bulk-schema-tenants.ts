/**
 * Thousands of SCHEMA tenants in seconds rather than minutes, for the 10,000-tenant scenario.
 *
 * `provisionTenant` does one tenant at a time through several connections (row, events, schema,
 * migrator, role, grants): about 30 a second here, so 10,000 would take 5 minutes every fresh run.
 * This path makes the same storage in batches over one connection per database:
 *  - the DDL and the grants are cloned from a tenant that `provisionTenant` made (its schema as
 *    `pg_dump -s` prints it, every name schema-qualified and every grant naming its tables, so
 *    renaming the schema and the role are word-bounded text replacements), and its migration
 *    bookkeeping rows are copied, so the migrator sees the clone as up to date. Cloned grants name
 *    the tables: `grantSchemaToRole`'s `GRANT … ON ALL TABLES IN SCHEMA` scans all of pg_class,
 *    which costs ~5–30 ms per tenant once the database holds thousands of schemas;
 *  - the role and its SCRAM verifier come from the project's own functions
 *    (src/tenancy/isolation/tenant-role.ts), its password is stored encrypted as provisioning does;
 *  - the patients are inserted in the same transaction;
 *  - the central rows go in with one INSERT per batch, ACTIVE, on the template's server.
 * The storage transaction commits before the central rows are written: a crash in between leaves a
 * schema and a role without a row, which the next run drops before making that tenant again.
 * No tenancy events are published: no server runs while the bench sets up, and a new tenant id
 * cannot be in anyone's cache.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { quoteIdent } from '../src/infra/sql-names.js';
import { newRolePassword, scramVerifier } from '../src/tenancy/isolation/tenant-role.js';
import { MIGRATIONS_TABLE } from '../src/tenancy/migrator/index.js';
import { tenantPasswordContext } from '../src/tenancy/secrets/stored-secrets.js';
import { type Tenancy } from '../src/tenancy/tenancy.js';
import { type BenchEnvironment } from './environment.js';
import { seedPatientsSql, type BenchTenant } from './fixtures.js';

export type BulkResult = { made: BenchTenant[]; seconds: number };

/**
 * Makes the SCHEMA tenants `keys` (none of which has an ACTIVE row) as clones of `template`.
 * @param parentId their CENTRAL_TENANT
 */
export async function bulkCreateSchemaTenants(
  bench: BenchEnvironment,
  tenancy: Tenancy,
  options: { template: BenchTenant; parentId: string; keys: readonly string[]; patients: number; batchSize: number },
  progress: (line: string) => void,
): Promise<BulkResult> {
  const started = performance.now();
  const { template, keys } = options;
  if (keys.length === 0) return { made: [], seconds: 0 };
  const ddl = templateDdl(bench, template);
  const templateRole = tenancy.naming.tenantRole(template.key);
  if (!new RegExp(`GRANT .* TO ${templateRole};`).test(ddl)) throw new Error(`the template schema ${template.schemaName} carries no grants to ${templateRole}`);
  const serverRow = await tenancy.central.query<{ db_server_id: string | null }>('SELECT db_server_id FROM tenants WHERE id = $1', [template.id]);
  const dbServerId = serverRow.rows[0]?.db_server_id ?? null;
  const strategy = tenancy.strategyFor({ level: 'TENANT', isolation: 'SCHEMA' });
  // Rows a crashed run left half-made (PROVISIONING): storage and role are remade below.
  await tenancy.central.query("DELETE FROM tenants WHERE level = 'TENANT' AND key = ANY($1) AND status <> 'ACTIVE'", [keys]);

  const url = new URL(bench.databaseUrl);
  url.pathname = `/${template.databaseName}`;
  const storage = new pg.Client({ connectionString: url.toString(), application_name: 'bench:bulk' });
  await storage.connect();
  const made: BenchTenant[] = [];
  try {
    for (let start = 0; start < keys.length; start += options.batchSize) {
      const batch = keys.slice(start, start + options.batchSize).map((key) => {
        const { databaseName, schemaName } = strategy.namesFor(key);
        return { key, databaseName, schemaName, role: tenancy.naming.tenantRole(key), password: newRolePassword() };
      });
      const statements: string[] = [];
      const verifiers = await Promise.all(batch.map((t) => scramVerifier(t.password)));
      for (const [index, t] of batch.entries()) {
        const role = quoteIdent(t.role);
        const schema = quoteIdent(t.schemaName);
        // Leftovers of a crashed run; nothing when the tenant never existed.
        statements.push(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, `DROP ROLE IF EXISTS ${role}`);
        statements.push(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${verifiers[index]}'`);
        statements.push(`GRANT ${role} TO CURRENT_USER`);
        statements.push(renameSchema(renameSchema(ddl, templateRole, t.role), template.schemaName, t.schemaName));
        statements.push(`INSERT INTO ${schema}.${MIGRATIONS_TABLE} SELECT * FROM ${quoteIdent(template.schemaName)}.${MIGRATIONS_TABLE}`);
        statements.push(seedPatientsSql(t.schemaName, t.key, options.patients));
      }
      await storage.query('BEGIN');
      try {
        await storage.query(statements.join(';\n'));
        await storage.query('COMMIT');
      } catch (error) {
        await storage.query('ROLLBACK').catch(() => {});
        throw error;
      }
      const inserted = await tenancy.central.query<{ id: string; key: string }>(
        `INSERT INTO tenants (level, parent_id, key, slug, name, status, isolation, database_name, schema_name, db_server_id, db_username)
         SELECT 'TENANT', $1, k, 'bench-' || replace(k, '_', '-'), 'Bench ' || k, 'ACTIVE', 'SCHEMA', d, s, $2, r
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(k, d, s, r)
         RETURNING id, key`,
        [options.parentId, dbServerId, batch.map((t) => t.key), batch.map((t) => t.databaseName), batch.map((t) => t.schemaName), batch.map((t) => t.role)],
      );
      const ids = new Map(inserted.rows.map((row) => [row.key, row.id]));
      const secrets = batch.map((t) => {
        const id = ids.get(t.key)!;
        return { id, ...tenancy.keyRing.encrypt(t.password, tenantPasswordContext(id)) };
      });
      await tenancy.central.query(
        `UPDATE tenants SET db_password_ciphertext = s.c, db_password_key_id = s.k
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS s(id, c, k) WHERE tenants.id = s.id`,
        [secrets.map((s) => s.id), secrets.map((s) => s.ciphertext), secrets.map((s) => s.keyId)],
      );
      for (const t of batch) made.push({ id: ids.get(t.key)!, key: t.key, isolation: 'SCHEMA', databaseName: t.databaseName, schemaName: t.schemaName });
      progress(`  bulk: ${made.length}/${keys.length} SCHEMA tenants (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await storage.end();
  }
  return { made, seconds: (performance.now() - started) / 1000 };
}

/** The template's schema as DDL with its grants, without pg_dump's session settings and comments. */
function templateDdl(bench: BenchEnvironment, template: BenchTenant): string {
  const url = new URL(bench.databaseUrl);
  url.pathname = `/${template.databaseName}`;
  const dump = spawnSync('pg_dump', ['--schema-only', '--no-owner', '--schema', template.schemaName, url.toString()], { encoding: 'utf8' });
  if (dump.status !== 0) throw new Error(`pg_dump of the template schema failed (is pg_dump ${'≥'} the server's version on PATH?): ${dump.stderr || dump.error?.message}`);
  return ddlStatements(dump.stdout);
}

/** Keeps the DDL of a `pg_dump -s` output: drops comments, `SET`s, the search_path call and psql's `\restrict` lines. */
export function ddlStatements(dump: string): string {
  return dump
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('--') && !line.startsWith('\\') && !/^SET /.test(line) && !/^SELECT pg_catalog\.set_config/.test(line))
    .join('\n');
}

/** The DDL for another schema: pg_dump qualifies every name, so only whole-word occurrences of the schema change. */
export function renameSchema(ddl: string, from: string, to: string): string {
  return ddl.replace(new RegExp(`(?<![A-Za-z0-9_])${from}(?![A-Za-z0-9_])`, 'g'), to).trim().replace(/;$/, '');
}
