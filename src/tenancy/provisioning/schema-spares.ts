/**
 * Spare SCHEMA-tenant storage, made ahead of need (PROVISIONING_SPARES per database server).
 *
 * A new SCHEMA tenant's own work is DDL: its schema and three cluster schemas, each with its
 * tables and a migrations bookkeeping table — 70–90 ms of PostgreSQL time on our machine, more
 * than the whole of what provisioning may take. So the DDL is done before anyone asks: a spare is
 * a tenant schema, its cluster schemas of this year and a role granted them (default privileges,
 * as provisioning grants), all migrated, under a reserved key `spare_<hex>` (no tenant may have
 * one). Provisioning claims a spare and renames its schemas and role to the tenant's, which is a
 * few catalog updates; privileges follow, being held by OID. Then the spare is replaced in the
 * background.
 *
 * Crash safety: a spare's row is written BUILDING before any of its storage, READY after. A claim
 * deletes the row and records the spare's key in the provisioning run's state in one central
 * transaction, so undo drops the spare's names too when the renames never happened. Storage named
 * like a spare with neither a row nor a run that claimed it is an orphan (a build or a claim cut
 * short) and is dropped when spares are next replenished, under the server's spare lock.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { tryAdvisoryLock } from '../../infra/advisory-lock.js';
import { inTransaction } from '../../infra/db-transaction.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { createTenantRole, dropTenantRole, newRolePassword, schemaPrivilegesSql } from '../isolation/tenant-role.js';
import { migrate } from '../migrator/index.js';
import { newTenantClusterYear } from '../cluster-years.js';
import { storageFingerprint } from '../migration-targets.js';
import { CLUSTER_MODULES, SPARE_KEY_PREFIX } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { ensureClusterSchemas } from './cluster-schemas.js';
import { type ProvisionedTenant } from './provision-tenant.js';

export type SchemaSpares = {
  /**
   * Takes a ready spare for `record` (a SCHEMA tenant) and renames its storage and role to the
   * tenant's; the key goes to the run's state first (`spareKey`). False when there is none (the
   * caller makes the storage itself); either way a replacement is made in the background.
   * Only a spare of a year the run asked for (`clusterYears`, fixed when the tenant was created):
   * a run made in December and provisioned or retried in January would otherwise get January's
   * cluster schemas, which its cluster-schemas step neither asked for nor records.
   */
  claim(record: ProvisionedTenant, runId: string, state: { spareKey?: string }, storagePool: pg.Pool, clusterYears: readonly number[]): Promise<boolean>;
  /** Makes spares until `serverId` has PROVISIONING_SPARES of the current migrations and year; drops stale and orphaned ones. */
  replenish(serverId: string): Promise<void>;
  /**
   * Starts, in the background, the replenishing that claims made due. Called once the provisioning
   * attempt that claimed has ended: a spare's DDL running beside the attempt slowed it down.
   */
  replenishDue(): void;
};

type SpareRecord = ProvisionedTenant & { schemaName: string; dbUsername: string };

export function makeSchemaSpares(tenancy: Tenancy, track: (work: Promise<unknown>) => void): SchemaSpares {
  const wanted = tenancy.config.tenancy.provisioningSpares;
  const sharedDatabase = tenancy.config.tenancy.sharedTenantsDatabase;

  const serverIdOf = async (record: { dbServerId?: string | null }) => record.dbServerId ?? (await tenancy.servers.centralServerId());

  /** One spare of cluster year `year`; `fingerprint` is that year's (storageFingerprint), so the two always agree. */
  async function build(serverId: string, year: number, fingerprint: string): Promise<void> {
    const spareKey = `${SPARE_KEY_PREFIX}${randomBytes(8).toString('hex')}`;
    const record = spareRecord(tenancy, serverId, spareKey);
    await tenancy.central.query('INSERT INTO schema_spares (db_server_id, key, fingerprint) VALUES ($1, $2, $3)', [serverId, spareKey, fingerprint]);
    try {
      await tenancy.servers.ensure(serverId);
      const admin = tenancy.servers.adminFor(serverId);
      await admin.ensureDatabase(sharedDatabase);
      await admin.withKeptPool(sharedDatabase, async (pool) => {
        await pool.query(`CREATE SCHEMA ${quoteIdent(record.schemaName)}`);
        // A password nobody keeps: a claim sets the tenant's own.
        await createTenantRole(pool, record, record.dbUsername, newRolePassword());
        await Promise.all([
          migrate(pool, { label: `tenant:${spareKey}`, schema: record.schemaName, files: tenancy.migrations.tenant, setupSql: schemaPrivilegesSql(record.dbUsername, record.schemaName) }),
          ensureClusterSchemas(tenancy, record, year, CLUSTER_MODULES, pool),
        ]);
      });
      await tenancy.central.query("UPDATE schema_spares SET status = 'READY' WHERE key = $1", [spareKey]);
    } catch (error) {
      await dropSpareStorage(tenancy, record).catch(() => {});
      await tenancy.central.query('DELETE FROM schema_spares WHERE key = $1', [spareKey]).catch(() => {});
      throw error;
    }
  }

  /** When each server's spare-named storage was last checked for orphans (a scan of pg_namespace). */
  const orphansCheckedAt = new Map<string, number>();

  /** Spare-named storage nobody accounts for: no spare row, no run that claimed it. */
  async function dropOrphans(serverId: string): Promise<void> {
    if (Date.now() - (orphansCheckedAt.get(serverId) ?? 0) < ORPHAN_CHECK_INTERVAL_MS) return;
    orphansCheckedAt.set(serverId, Date.now());
    const admin = tenancy.servers.adminFor(serverId);
    if (!(await admin.databaseExists(sharedDatabase))) return;
    const found = await admin.withKeptPool(sharedDatabase, (pool) =>
      pool.query<{ key: string }>('SELECT DISTINCT substring(nspname from $1) AS key FROM pg_namespace WHERE nspname ~ $1', [tenancy.naming.spareSchemas]),
    );
    for (const { key } of found.rows) {
      // A claim in progress has it in its run's state until it renames it; a finished run's leftovers (its undo failed) are orphans.
      const accounted = await tenancy.central.query(
        "SELECT 1 FROM schema_spares WHERE key = $1 UNION ALL SELECT 1 FROM provisioning_runs WHERE state->>'spareKey' = $1 AND status IN ('PENDING', 'RUNNING', 'UNDOING')",
        [key],
      );
      if (accounted.rowCount === 0) await dropSpareStorage(tenancy, spareRecord(tenancy, serverId, key));
    }
  }

  async function replenish(serverId: string): Promise<void> {
    if (wanted <= 0) return;
    // One replenisher per server at a time, across processes; the others leave it to that one.
    const lock = await tryAdvisoryLock(tenancy.central, `tenantgraph:schema-spares:${serverId}`);
    if (!lock) return;
    try {
      // One year for every spare of this round and its fingerprint: a round across New Year's midnight stays consistent.
      const year = newTenantClusterYear();
      const fingerprint = storageFingerprint(tenancy.migrations, year);
      // Spares of other migrations or years never fit a new tenant: drop them.
      const { rows: stale } = await tenancy.central.query<{ key: string }>(
        "DELETE FROM schema_spares WHERE db_server_id = $1 AND (fingerprint <> $2 OR status = 'BUILDING') RETURNING key",
        [serverId, fingerprint],
      );
      for (const { key } of stale) await dropSpareStorage(tenancy, spareRecord(tenancy, serverId, key));
      await dropOrphans(serverId);
      const { rows } = await tenancy.central.query<{ count: number }>('SELECT count(*)::int AS count FROM schema_spares WHERE db_server_id = $1', [serverId]);
      for (let have = rows[0]!.count; have < wanted; have++) await build(serverId, year, fingerprint);
    } finally {
      await lock();
    }
  }

  const replenishLater = (serverId: string) =>
    track(
      replenish(serverId).catch((error: unknown) => {
        tenancy.logger.warn({ err: error, serverId }, 'making spare SCHEMA storage failed; provisioning makes storage itself meanwhile');
      }),
    );

  /** Servers whose spares a claim (or a miss) used up since the last replenishDue. */
  const due = new Set<string>();

  return {
    replenish,
    replenishDue() {
      for (const serverId of due) replenishLater(serverId);
      due.clear();
    },
    async claim(record, runId, state, storagePool, clusterYears) {
      if (wanted <= 0 || record.level !== 'TENANT' || record.isolation !== 'SCHEMA') return false;
      // One year for the fingerprint and the names: a claim across New Year's midnight stays whole.
      const year = newTenantClusterYear();
      if (!clusterYears.includes(year)) return false;
      const serverId = await serverIdOf(record);
      const spareKey = await inTransaction(tenancy.central, async (client) => {
        const { rows } = await client.query<{ key: string }>(
          `DELETE FROM schema_spares WHERE id = (
             SELECT id FROM schema_spares WHERE db_server_id = $1 AND fingerprint = $2 AND status = 'READY' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING key`,
          [serverId, storageFingerprint(tenancy.migrations, year)],
        );
        const key = rows[0]?.key;
        if (key) await client.query('UPDATE provisioning_runs SET state = state || $2::jsonb WHERE id = $1', [runId, JSON.stringify({ spareKey: key })]);
        return key;
      });
      due.add(serverId);
      if (!spareKey) return false;
      state.spareKey = spareKey;
      const spare = spareRecord(tenancy, serverId, spareKey);
      const renames = CLUSTER_MODULES.map(
        (module) =>
          `ALTER SCHEMA ${quoteIdent(tenancy.naming.clusterSchema(spare, module, year))} RENAME TO ${quoteIdent(tenancy.naming.clusterSchema(record, module, year))}`,
      );
      // One implicit transaction: all of the spare becomes the tenant's, or none of it.
      await storagePool.query(
        [
          `ALTER SCHEMA ${quoteIdent(spare.schemaName)} RENAME TO ${quoteIdent(record.schemaName!)}`,
          ...renames,
          `ALTER ROLE ${quoteIdent(spare.dbUsername)} RENAME TO ${quoteIdent(tenancy.naming.tenantRole(record.key))}`,
        ].join(';\n'),
      );
      return true;
    },
  };
}

/** Orphan checks scan the shared database's schemas: at most this often per server and process. */
const ORPHAN_CHECK_INTERVAL_MS = 5 * 60_000;

/** A spare's storage as a tenant record, so the provisioning functions make and drop it as they would a tenant's. */
function spareRecord(tenancy: Tenancy, serverId: string, spareKey: string): SpareRecord {
  const { schemaName, role } = tenancy.naming.spare(spareKey);
  return {
    id: spareKey,
    level: 'TENANT',
    key: spareKey,
    slug: spareKey,
    name: spareKey,
    parentId: null,
    isolation: 'SCHEMA',
    databaseName: tenancy.config.tenancy.sharedTenantsDatabase,
    schemaName,
    dbServerId: serverId,
    dbUsername: role,
  };
}

async function dropSpareStorage(tenancy: Tenancy, record: SpareRecord): Promise<void> {
  await tenancy.strategyFor(record).dropStorage(record);
  await dropTenantRole(tenancy.servers.adminFor(record.dbServerId), record, record.dbUsername);
}

/**
 * Drops what a spare claimed by `record`'s run still holds under the spare's own names: undo of a
 * claim whose renames never happened (after them, the names are gone and this finds nothing).
 */
export async function dropClaimedSpare(tenancy: Tenancy, record: ProvisionedTenant, spareKey: string): Promise<void> {
  await dropSpareStorage(tenancy, spareRecord(tenancy, record.dbServerId ?? (await tenancy.servers.centralServerId()), spareKey));
}
