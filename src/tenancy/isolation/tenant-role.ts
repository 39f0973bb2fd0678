/**
 * Each TENANT's own PostgreSQL role: LOGIN with a random password (stored encrypted in its
 * `tenants` row), privileges on its own schema and cluster schemas only. Requests run as it
 * (registry/role-pool.ts), so a statement naming another tenant's schema fails in PostgreSQL
 * itself ("permission denied for schema"), whatever our code does.
 *
 * The admin role that creates it is made a member, which is what lets the shared pools (logged in
 * as the admin) `SET ROLE` to it. The migrations bookkeeping table stays the admin's.
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';
import { MIGRATIONS_TABLE } from '../migrator/index.js';
import { requireNames, type StorageRecord } from './isolation-strategy.js';
import { DATABASE_CLUSTER_SCHEMAS, databaseClusterSchemas } from './database-isolation.js';
import { clusterSchemasOf } from './schema-isolation.js';
import { type ServerAdmin } from './server-admin.js';

const pbkdf2Async = promisify(pbkdf2);

/** A password of 32 random bytes; base64url, so it is safe inside a SQL string literal. */
export function newRolePassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Iterations of a tenant role's SCRAM verifier. Key stretching slows guessing of passwords people
 * choose; a tenant role's password is 256 random bits (newRolePassword), which no number of
 * iterations makes easier or harder to guess. The count is paid again and again, though: every
 * login as the role derives the key, and PostgreSQL derives it once more in CREATE ROLE (to refuse a
 * verifier of the empty password) — with PostgreSQL's default of 4096 that check alone was 8–10 ms
 * of every provisioning here (a role with an md5 or no password: 0.6 ms).
 */
export const TENANT_ROLE_SCRAM_ITERATIONS = 1;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677). Sent instead of the
 * password, so the plaintext never reaches the server, where a failing statement would be written
 * to its log with its text. The key derivation runs off the event loop.
 */
export async function scramVerifier(password: string, salt = randomBytes(16), iterations = TENANT_ROLE_SCRAM_ITERATIONS): Promise<string> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Creates the role, lets the admin act as it, and grants it its storage, in one round trip on
 * `storagePool` (a pool on the tenant's database; roles are server-wide, so no maintenance
 * connection is needed) and one implicit transaction: all of it or none. Fails if the role exists
 * (a name belongs to one tenant).
 *
 * What it is granted: a DATABASE tenant's database was cloned with its tables, so the tables of
 * `public` and of the cloned cluster schemas now, and those later migrations add (default privileges). A SCHEMA tenant's schema is
 * still empty here: the schema only, as reading "all tables in schema" scans the whole pg_class of
 * a database shared by thousands of tenants; its tables are granted as its migration makes them
 * (`schemaPrivilegesSql` as the migration's setup).
 */
export async function createTenantRole(storagePool: pg.Pool, record: StorageRecord, role: string, password: string): Promise<void> {
  const verifier = await scramVerifier(password); // base64 and `$:`: safe inside a SQL string literal
  const r = quoteIdent(role);
  const { databaseName, schemaName } = requireNames(record);
  const statements = [`CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${verifier}'`, `GRANT ${r} TO CURRENT_USER`];
  if (record.isolation === 'DATABASE') {
    // Its own database: only it (and the admin) may connect. The shared SCHEMA database stays open to all tenant roles.
    const database = quoteIdent(databaseName);
    statements.push(`REVOKE CONNECT ON DATABASE ${database} FROM PUBLIC`, `GRANT CONNECT ON DATABASE ${database} TO ${r}`);
    // The clone's schemas: public and the template's cluster schemas (a small database: the scans are cheap).
    for (const schema of [schemaName, ...(await databaseClusterSchemas(storagePool))]) statements.push(grantExistingSql(role, schema));
  } else {
    statements.push(`GRANT USAGE ON SCHEMA ${quoteIdent(schemaName)} TO ${r}`);
  }
  await storagePool.query(statements.join(';\n')).catch((error: { code?: string; message?: string }) => {
    if (error.code !== '42501' || !/create role/i.test(error.message ?? '')) throw error;
    throw new Error('The database admin role may not create roles: give it CREATEROLE (ALTER ROLE <admin> CREATEROLE), which per-tenant roles need', { cause: error });
  });
}

/** Gives an existing tenant role (a claimed spare's) a new password, sent as its SCRAM verifier. */
export async function setTenantRolePassword(pool: pg.Pool, role: string, password: string): Promise<void> {
  const verifier = await scramVerifier(password); // base64 and `$:`: safe inside a SQL string literal
  await pool.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD '${verifier}'`);
}

/**
 * Lets `role` use `schema` and the tables and sequences made in it from now on (default
 * privileges for what the admin creates). Statements for a migration's `setupSql`: run before the
 * schema's files, after its bookkeeping table, which therefore stays the admin's. Idempotent.
 */
export function schemaPrivilegesSql(role: string, schema: string): string {
  const r = quoteIdent(role);
  const s = quoteIdent(schema);
  return `GRANT USAGE ON SCHEMA ${s} TO ${r};
     ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r};
     ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r};`;
}

/** `schemaPrivilegesSql` plus the tables and sequences that exist already (the bookkeeping table excepted). */
function grantExistingSql(role: string, schema: string): string {
  const r = quoteIdent(role);
  const s = quoteIdent(schema);
  return `${schemaPrivilegesSql(role, schema)}
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};
     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
     REVOKE ALL ON ${s}.${MIGRATIONS_TABLE} FROM ${r};`;
}

/**
 * Lets `role` use the tables of `schema` (migrated already), now and those later migrations add.
 * Idempotent. Reads all of pg_class ("all tables in schema"): for storage made outside
 * provisioning, not on its path.
 */
export async function grantSchemaToRole(pool: pg.Pool, role: string, schema: string): Promise<void> {
  await pool.query(grantExistingSql(role, schema));
}

/**
 * Grants `role` its tenant schema and every cluster schema in `record`'s storage: for storage made
 * outside provisioning (a restore, which carries no privileges).
 */
export async function grantTenantStorage(admin: ServerAdmin, record: StorageRecord, role: string): Promise<void> {
  const { databaseName, schemaName } = requireNames(record);
  const clusters = record.isolation === 'SCHEMA' ? clusterSchemasOf(schemaName) : DATABASE_CLUSTER_SCHEMAS;
  await admin.withDatabase(databaseName, async (pool) => {
    const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname ~ $2', [schemaName, clusters]);
    for (const { nspname } of rows) await grantSchemaToRole(pool, role, nspname);
  });
}

/**
 * Drops the role and whatever privileges it still holds. Runs after the storage was dropped;
 * idempotent (a rerun after a crash finds nothing to do).
 */
export async function dropTenantRole(admin: ServerAdmin, record: StorageRecord, role: string): Promise<void> {
  const exists = await admin.maintenance('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount === 0) return;
  const { databaseName } = requireNames(record);
  // Grants inside a database that still exists (the shared SCHEMA database) go with DROP OWNED there.
  if (await admin.databaseExists(databaseName)) {
    await admin.withDatabase(databaseName, (pool) => pool.query(`DROP OWNED BY ${quoteIdent(role)}`));
  }
  await admin.maintenance(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
}
