/**
 * Memberships administered within a subtree: system admins anywhere, an admin of a tenant for it
 * and its descendants. Every change is audited.
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { UUID_PATTERN } from '../tenancy/model.js';
import { chainRecords, TENANT_ADMIN_ROLE, type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { type TenantDirectory } from '../tenancy/identification/tenant-directory.js';
import { assertEmail, type MembershipRow } from './accounts.js';
import { actorOf, type AuditLog } from './audit.js';
import { type ClientRequest } from './auth-types.js';
import { assertAbilities, assertMembershipRole } from './catalogue.js';

export type MemberView = MembershipRow & { email: string; name: string };

export class Members {
  constructor(private readonly deps: { pool: pg.Pool; directory: TenantDirectory; audit: AuditLog }) {}

  /** FORBIDDEN unless the principal administers `tenantId` (itself or an ancestor). */
  async assertAdministers(principal: UserPrincipal, tenantId: string): Promise<void> {
    const chain = UUID_PATTERN.test(tenantId) ? await this.deps.directory.findById(tenantId) : undefined;
    if (!chain) throw new AppError(ErrorCode.TENANT_NOT_FOUND, 'Tenant not found');
    if (principal.isSystemAdmin) return;
    const ids = chainRecords(chain).map((record) => record.id);
    if (!principal.roles.includes(TENANT_ADMIN_ROLE) || principal.tenantId === null || !ids.includes(principal.tenantId)) {
      throw new AppError(ErrorCode.FORBIDDEN, 'Managing members needs role admin of this tenant or an ancestor (or system_admin)');
    }
  }

  async list(principal: UserPrincipal, tenantId: string): Promise<MemberView[]> {
    await this.assertAdministers(principal, tenantId);
    return (
      await this.deps.pool.query<MemberView>(
        `SELECT m.*, a.email, a.name FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 ORDER BY a.email`,
        [tenantId],
      )
    ).rows;
  }

  /** Adds an account (created without a password when new) to a tenant. */
  async invite(principal: UserPrincipal, input: { tenantId: string; email: string; role: string; abilities: string[] }, request: ClientRequest): Promise<MemberView> {
    const role = assertMembershipRole(input.role);
    const abilities = assertAbilities(input.abilities);
    const email = assertEmail(input.email);
    await this.assertAdministers(principal, input.tenantId);
    const account = (
      await this.deps.pool.query<{ id: string }>(
        `INSERT INTO accounts (email, name) VALUES ($1, $1) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
        [email],
      )
    ).rows[0]!;
    const inserted = await this.deps.pool.query<MembershipRow>(
      `INSERT INTO memberships (account_id, tenant_id, role, abilities) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (account_id, tenant_id) DO NOTHING RETURNING *`,
      [account.id, input.tenantId, role, JSON.stringify(abilities)],
    );
    if (!inserted.rows[0]) throw new AppError(ErrorCode.CONFLICT, `${email} is already a member of this tenant`);
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.invited',
      tenantId: input.tenantId,
      targetType: 'membership',
      targetId: inserted.rows[0].id,
      details: { email, role, abilities },
    });
    return { ...inserted.rows[0], email, name: email };
  }

  async update(principal: UserPrincipal, input: { id: string; role: string | null; abilities: string[] | null }, request: ClientRequest): Promise<MemberView> {
    const role = input.role === null ? null : assertMembershipRole(input.role);
    const abilities = input.abilities === null ? null : assertAbilities(input.abilities);
    const before = await this.find(input.id);
    await this.assertAdministers(principal, before.tenant_id);
    const after = (
      await this.deps.pool.query<MembershipRow>(
        `UPDATE memberships SET role = COALESCE($2, role), abilities = COALESCE($3::jsonb, abilities), updated_at = now() WHERE id = $1 RETURNING *`,
        [before.id, role, abilities === null ? null : JSON.stringify(abilities)],
      )
    ).rows[0]!;
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.updated',
      tenantId: before.tenant_id,
      targetType: 'membership',
      targetId: before.id,
      details: { before: { role: before.role, abilities: before.abilities }, after: { role: after.role, abilities: after.abilities } },
    });
    return { ...after, email: before.email, name: before.name };
  }

  async remove(principal: UserPrincipal, id: string, request: ClientRequest): Promise<boolean> {
    const before = await this.find(id);
    await this.assertAdministers(principal, before.tenant_id);
    await this.deps.pool.query('DELETE FROM memberships WHERE id = $1', [before.id]);
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.removed',
      tenantId: before.tenant_id,
      targetType: 'membership',
      targetId: before.id,
      details: { email: before.email, role: before.role },
    });
    return true;
  }

  private async find(id: string): Promise<MemberView> {
    const row = UUID_PATTERN.test(id)
      ? (await this.deps.pool.query<MemberView>('SELECT m.*, a.email, a.name FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.id = $1', [id])).rows[0]
      : undefined;
    if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Membership not found');
    return row;
  }
}
