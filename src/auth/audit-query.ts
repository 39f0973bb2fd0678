/**
 * Reading the audit log: system admins see every row; an admin sees the rows of its tenant's
 * subtree (itself, its children and grandchildren); nobody else sees any.
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { UUID_PATTERN } from '../tenancy/model.js';
import { TENANT_ADMIN_ROLE, type UserPrincipal } from '../tenancy/identification/identification-types.js';

export type AuditRow = {
  id: string;
  tenant_id: string | null;
  actor_account_id: string | null;
  impersonator_account_id: string | null;
  actor_label: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: Date;
};

export type AuditFilterInput = { action?: string | null; tenantId?: string | null; actorAccountId?: string | null };

export async function listAuditLogs(
  pool: pg.Pool,
  principal: UserPrincipal,
  args: { filter: AuditFilterInput | null; first: number; after: string | null },
): Promise<{ rows: AuditRow[]; hasNextPage: boolean }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (!principal.isSystemAdmin) {
    if (!principal.roles.includes(TENANT_ADMIN_ROLE) || !principal.tenantId) throw new AppError(ErrorCode.FORBIDDEN, 'Reading the audit log needs role admin or system_admin');
    const root = param(principal.tenantId);
    where.push(`tenant_id IN (SELECT id FROM tenants WHERE id = ${root} OR parent_id = ${root} OR parent_id IN (SELECT id FROM tenants WHERE parent_id = ${root}))`);
  }
  const filter = args.filter ?? {};
  if (filter.action) where.push(`action = ${param(filter.action)}`);
  if (filter.tenantId) where.push(UUID_PATTERN.test(filter.tenantId) ? `tenant_id = ${param(filter.tenantId)}::uuid` : 'false');
  if (filter.actorAccountId) where.push(UUID_PATTERN.test(filter.actorAccountId) ? `actor_account_id = ${param(filter.actorAccountId)}::uuid` : 'false');
  if (args.after) {
    const id = /^\d{1,19}$/.test(args.after) ? args.after : null;
    if (!id) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Invalid cursor', { details: { field: 'after' } });
    where.push(`id < ${param(id)}::bigint`);
  }
  const first = Math.min(Math.max(args.first, 1), 100);
  const result = await pool.query<AuditRow>(
    `SELECT id::text AS id, tenant_id, actor_account_id, impersonator_account_id, actor_label, action, target_type, target_id, request_id,
            host(ip_address) AS ip_address, user_agent, details, created_at
       FROM audit_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${first + 1}`,
    params,
  );
  return { rows: result.rows.slice(0, first), hasNextPage: result.rows.length > first };
}
