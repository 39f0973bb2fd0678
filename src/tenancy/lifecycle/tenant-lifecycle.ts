/**
 * A tenant's life after provisioning: suspend and resume, maintenance mode, soft delete (status
 * DELETED, data kept, domains released, restorable for TENANT_DELETE_GRACE_DAYS) and hard delete
 * (storage, role, files and the row; only with the slug as confirmation, never for a parent with
 * children). Who may: system admins, and admins of an ancestor of the tenant. Each change is
 * published as a tenancy event once committed: every process drops what it cached about that
 * tenant, so none serves the old status.
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { type TenantCacheStore } from '../../infra/cache/index.js';
import { type TenantFileStore } from '../../infra/storage/tenant-files.js';
import { takeOwnership } from '../../infra/advisory-lock.js';
import { dropTenantRole } from '../isolation/tenant-role.js';
import { UUID_PATTERN, type Isolation, type TenantLevelName, type TenantStatus } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { inTransaction } from '../../infra/db-transaction.js';

/** Who asks: a system admin, or the admin of one tenant (acting on its descendants). */
export type LifecycleActor = { kind: 'system' } | { kind: 'admin'; tenantId: string };

export type LifecycleTenant = {
  id: string;
  slug: string;
  name: string;
  level: TenantLevelName;
  isolation: Isolation;
  status: TenantStatus;
  maintenance: boolean;
  maintenanceMessage: string | null;
  parentId: string | null;
  deletedAt: Date | null;
};

export type TenantDeletion = { id: string; slug: string; hard: boolean; restorableUntil: Date | null };

type Row = LifecycleTenant & {
  key: string;
  databaseName: string | null;
  schemaName: string | null;
  dbServerId: string | null;
  dbUsername: string | null;
  metadata: Record<string, unknown>;
  grandparentId: string | null;
};

const MAX_REASON = 500;

/** Who owns a hard delete, and (held while it drops) its work lock: see takeOwnership. */
const deleteLockKey = (tenantId: string) => `tenantgraph:hard-delete:${tenantId}`;
const deleteWorkLockKey = (tenantId: string) => `tenantgraph:hard-delete-work:${tenantId}`;

const conflict = (message: string, field = 'status') => new AppError(ErrorCode.CONFLICT, message, { details: { field } });
const badInput = (message: string, field: string) => new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { field } });

export type TenantLifecycle = ReturnType<typeof makeTenantLifecycle>;

export function makeTenantLifecycle(deps: {
  tenancy: Tenancy;
  files: Pick<TenantFileStore, 'removeTenant'>;
  cache: Pick<TenantCacheStore, 'flushTenant'>;
  graceDays: number;
}) {
  const { tenancy } = deps;
  const pool = tenancy.central;

  /** The tenant, if the actor may act on it; NOT_FOUND otherwise (as if it did not exist). */
  async function load(actor: LifecycleActor, id: string): Promise<Row> {
    if (!UUID_PATTERN.test(id)) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
    const { rows } = await pool.query<Row>(
      `SELECT t.id, t.slug, t.name, t.key, t.level, t.isolation, t.status, t.maintenance, t.maintenance_message AS "maintenanceMessage",
              t.parent_id AS "parentId", t.deleted_at AS "deletedAt", t.database_name AS "databaseName", t.schema_name AS "schemaName",
              t.db_server_id AS "dbServerId", t.db_username AS "dbUsername", t.metadata, p.parent_id AS "grandparentId"
         FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id WHERE t.id = $1`,
      [id],
    );
    const row = rows[0];
    const allowed = row && (actor.kind === 'system' || actor.tenantId === row.parentId || actor.tenantId === row.grandparentId);
    if (!allowed) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
    return row;
  }

  /** Changes the row only if its status is still `from` (two admins acting at once: one wins, one gets CONFLICT). */
  async function transition(row: Row, from: readonly TenantStatus[], set: string, values: unknown[], to?: TenantStatus): Promise<LifecycleTenant> {
    const { rows } = await pool.query<{ id: string }>(`UPDATE tenants SET ${set}, updated_at = now() WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`, [
      row.id,
      from,
      ...values,
    ]);
    if (rows.length === 0) throw conflict(`Tenant ${row.slug} changed meanwhile; try again`);
    await tenancy.events.publish(to ? { type: 'TenantStatusChanged', tenantId: row.id, from: row.status, to } : { type: 'TenantUpdated', tenantId: row.id });
    return reload(row.id);
  }

  async function reload(id: string): Promise<LifecycleTenant> {
    return load({ kind: 'system' }, id);
  }

  function requireStatus(row: Row, allowed: readonly TenantStatus[], action: string): void {
    if (!allowed.includes(row.status)) throw conflict(`Cannot ${action} tenant ${row.slug}: it is ${row.status}`);
  }

  /** Storage, role, files, cache, then the row. Idempotent: a rerun after a crash finds the done parts gone. */
  async function dropEverything(row: Row): Promise<void> {
    const record = { ...row, dbServerId: row.dbServerId, dbUsername: row.dbUsername };
    await tenancy.servers.ensure(record.dbServerId);
    await tenancy.strategyFor(record).dropStorage(record);
    // Tests only (PROVISIONING_TEST_STEP_DELAY=hard-delete=ms): widens the window to kill a process midway.
    const pause = tenancy.config.tenancy.provisioningStepDelayMs['hard-delete'];
    if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
    if (row.level === 'TENANT') await dropTenantRole(tenancy.servers.adminFor(record.dbServerId), record, row.dbUsername ?? tenancy.naming.tenantRole(row.key));
    await deps.files.removeTenant(row.id);
    await deps.cache.flushTenant(row.id);
    // Its queued jobs never run: the worker skips jobs of tenants without a live row (deleted-tenants.ts).
    await pool.query('DELETE FROM tenants WHERE id = $1', [row.id]);
    await tenancy.events.publish({ type: 'TenantDeleted', tenantId: row.id, hard: true });
  }

  async function liveChildren(id: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM tenants WHERE parent_id = $1 AND status <> 'DELETED'", [id]);
    return rows[0]!.n;
  }

  return {
    /** The tenant, if the actor may act on it (NOT_FOUND otherwise). */
    get: (actor: LifecycleActor, id: string): Promise<LifecycleTenant> => load(actor, id),

    async suspend(actor: LifecycleActor, id: string, reason: string): Promise<LifecycleTenant> {
      const text = reason.trim();
      if (text === '' || text.length > MAX_REASON) throw badInput(`reason must be 1 to ${MAX_REASON} characters`, 'reason');
      const row = await load(actor, id);
      requireStatus(row, ['ACTIVE'], 'suspend');
      return transition(row, ['ACTIVE'], "status = 'SUSPENDED', metadata = metadata || jsonb_build_object('suspendedReason', $3::text, 'suspendedAt', now())", [text], 'SUSPENDED');
    },

    async resume(actor: LifecycleActor, id: string): Promise<LifecycleTenant> {
      const row = await load(actor, id);
      requireStatus(row, ['SUSPENDED'], 'resume');
      return transition(row, ['SUSPENDED'], "status = 'ACTIVE', metadata = metadata - 'suspendedReason' - 'suspendedAt'", [], 'ACTIVE');
    },

    async setMaintenance(actor: LifecycleActor, id: string, enabled: boolean, message: string | null): Promise<LifecycleTenant> {
      const text = message?.trim() || null;
      if (text !== null && text.length > MAX_REASON) throw badInput(`message must be at most ${MAX_REASON} characters`, 'message');
      const row = await load(actor, id);
      requireStatus(row, ['ACTIVE', 'SUSPENDED'], enabled ? 'put into maintenance' : 'end maintenance of');
      return transition(row, ['ACTIVE', 'SUSPENDED'], 'maintenance = $3, maintenance_message = $4', [enabled, enabled ? text : null]);
    },

    /** Soft delete: status DELETED, data kept, domains released (remembered, to reclaim on restore). */
    async softDelete(actor: LifecycleActor, id: string): Promise<TenantDeletion> {
      const row = await load(actor, id);
      requireStatus(row, ['ACTIVE', 'SUSPENDED', 'FAILED'], 'delete');
      if ((await liveChildren(id)) > 0) throw conflict(`Tenant ${row.slug} has tenants below it; delete them first`, 'id');
      await inTransaction(pool, async (client) => {
        const released = await client.query<{ domain: string; is_primary: boolean; verified_at: Date | null }>(
          'DELETE FROM domains WHERE tenant_id = $1 RETURNING domain, is_primary, verified_at',
          [id],
        );
        const updated = await client.query(
          `UPDATE tenants SET status = 'DELETED', deleted_at = now(), updated_at = now(),
                  metadata = metadata || jsonb_build_object('statusBeforeDelete', status, 'releasedDomains', $3::jsonb)
            WHERE id = $1 AND status = ANY($2::text[])`,
          [id, ['ACTIVE', 'SUSPENDED', 'FAILED'], JSON.stringify(released.rows.map((r) => ({ domain: r.domain, isPrimary: r.is_primary, verifiedAt: r.verified_at })))],
        );
        if (updated.rowCount !== 1) throw conflict(`Tenant ${row.slug} changed meanwhile; try again`);
      });
      await tenancy.events.publish({ type: 'TenantDeleted', tenantId: id, hard: false });
      tenancy.logger.info({ tenantId: id, slug: row.slug }, 'tenant soft-deleted');
      return { id, slug: row.slug, hard: false, restorableUntil: new Date(Date.now() + deps.graceDays * 86_400_000) };
    },

    /** Undoes a soft delete within the grace period; released domains come back unless taken meanwhile. */
    async restore(actor: LifecycleActor, id: string): Promise<LifecycleTenant> {
      const row = await load(actor, id);
      requireStatus(row, ['DELETED'], 'restore');
      if (row.deletedAt && row.deletedAt.getTime() + deps.graceDays * 86_400_000 < Date.now()) {
        throw conflict(`Tenant ${row.slug} was deleted more than ${deps.graceDays} days ago; it can no longer be restored`, 'deletedAt');
      }
      if (row.parentId) {
        const parent = await pool.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [row.parentId]);
        if (parent.rows[0]?.status === 'DELETED') throw conflict('Restore its parent first', 'parentId');
      }
      const previous = typeof row.metadata.statusBeforeDelete === 'string' ? row.metadata.statusBeforeDelete : 'ACTIVE';
      const restoredStatus: TenantStatus = previous === 'FAILED' ? 'FAILED' : previous === 'SUSPENDED' ? 'SUSPENDED' : 'ACTIVE';
      const domains = Array.isArray(row.metadata.releasedDomains) ? (row.metadata.releasedDomains as { domain: string; isPrimary: boolean; verifiedAt?: string | null }[]) : [];
      await inTransaction(pool, async (client) => {
        for (const domain of domains) {
          // A domain verified before the delete stays verified (REQUIRE_VERIFIED_DOMAINS): it routes again at once.
          await client.query(
            'INSERT INTO domains (tenant_id, domain, is_primary, is_verified, verified_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain) DO NOTHING',
            [id, domain.domain, domain.isPrimary, Boolean(domain.verifiedAt), domain.verifiedAt ?? null],
          );
        }
        await client.query(
          `UPDATE tenants SET status = $2, deleted_at = NULL, updated_at = now(), metadata = metadata - 'statusBeforeDelete' - 'releasedDomains'
            WHERE id = $1 AND status = 'DELETED'`,
          [id, restoredStatus],
        );
      });
      await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: id, from: 'DELETED', to: restoredStatus });
      return reload(id);
    },

    /**
     * Hard delete: marks DELETING first (routing treats it as gone; a crash midway leaves a row a
     * worker finishes: finishInterruptedDeletes), then drops storage, role, files and cache, then
     * the row (domains, memberships, runs go with it). Each step is idempotent. The process doing
     * it holds an advisory lock on the tenant, and a work lock while it drops, so recovery never
     * races a live delete, not even one whose lock session alone was lost.
     */
    async hardDelete(actor: LifecycleActor, id: string, confirm: string | null): Promise<TenantDeletion> {
      const row = await load(actor, id);
      if (confirm !== row.slug) throw badInput(`To delete ${row.slug} and all its data for good, pass confirm: "${row.slug}"`, 'confirm');
      if (row.status === 'PROVISIONING') throw conflict(`Tenant ${row.slug} is being provisioned`);
      const children = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants WHERE parent_id = $1', [id]);
      if (children.rows[0]!.n > 0) throw conflict(`Tenant ${row.slug} has tenants below it (deleted or not); hard-delete them first`, 'id');
      const lock = await takeOwnership(pool, deleteLockKey(id), deleteWorkLockKey(id));
      if (typeof lock === 'string') throw conflict(`Tenant ${row.slug} is being deleted`);
      try {
        await pool.query("UPDATE tenants SET status = 'DELETING', updated_at = now() WHERE id = $1", [id]);
        await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: id, from: row.status, to: 'DELETING' });
        await dropEverything(row);
      } finally {
        await lock();
      }
      tenancy.logger.info({ tenantId: id, slug: row.slug }, 'tenant hard-deleted');
      return { id, slug: row.slug, hard: true, restorableUntil: null };
    },

    /** Hard deletes whose process died (DELETING, lock free): finished now. Answers how many. */
    async finishInterruptedDeletes(): Promise<number> {
      const { rows } = await pool.query<{ id: string }>("SELECT id FROM tenants WHERE status = 'DELETING'");
      let finished = 0;
      for (const { id } of rows) {
        const lock = await takeOwnership(pool, deleteLockKey(id), deleteWorkLockKey(id));
        if (lock === 'owned') continue; // a live process is on it
        if (lock === 'finishing') {
          tenancy.logger.warn({ tenantId: id }, 'the previous owner of this hard delete is still dropping; trying again later');
          continue;
        }
        try {
          const row = await load({ kind: 'system' }, id).catch(() => undefined);
          if (row?.status !== 'DELETING') continue;
          tenancy.logger.warn({ tenantId: id, slug: row.slug }, 'finishing an interrupted hard delete');
          await dropEverything(row);
          finished++;
        } finally {
          await lock();
        }
      }
      return finished;
    },
  };
}
