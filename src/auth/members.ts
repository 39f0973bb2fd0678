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
import { type ClientRequest, type Clock } from './auth-types.js';
import { assertAbilities, assertMembershipRole } from './catalogue.js';
import { issueInvitation, revokePendingInvitations, type InvitationSettings, type IssuedInvitation } from './invitations.js';
import { inTransaction } from '../infra/db-transaction.js';

/** A membership with its account, and when its pending invitation (if any) runs out; never the token. */
export type MemberView = MembershipRow & { email: string; name: string; invitation_expires_at: Date | null };

const MEMBER_VIEW = `SELECT m.*, a.email, a.name,
  (SELECT max(i.expires_at) FROM invitations i
    WHERE i.tenant_id = m.tenant_id AND i.email = a.email AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND a.password_hash IS NULL) AS invitation_expires_at
  FROM memberships m JOIN accounts a ON a.id = m.account_id`;

export type MemberDependencies = { pool: pg.Pool; directory: TenantDirectory; audit: AuditLog; clock: Clock; invitations: InvitationSettings };

export class Members {
  constructor(private readonly deps: MemberDependencies) {}

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
      await this.deps.pool.query<MemberView>(`${MEMBER_VIEW} WHERE m.tenant_id = $1 ORDER BY a.email`, [tenantId])
    ).rows;
  }

  /**
   * Adds an account (created without a password when new) to a tenant, with an invitation to set
   * one when it has none: its token is in this answer only (null for an account with a password).
   */
  async invite(
    principal: UserPrincipal,
    input: { tenantId: string; email: string; role: string; abilities: string[] },
    request: ClientRequest,
  ): Promise<{ member: MemberView; invitation: IssuedInvitation | null }> {
    const role = assertMembershipRole(input.role);
    const abilities = assertAbilities(input.abilities);
    const email = assertEmail(input.email);
    await this.assertAdministers(principal, input.tenantId);
    // One transaction: a member is never left without the invitation its answer promises.
    const { membership, invitation } = await inTransaction(this.deps.pool, async (client) => {
      const account = (
        await client.query<{ id: string }>(
          `INSERT INTO accounts (email, name) VALUES ($1, $1) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
          [email],
        )
      ).rows[0]!;
      const inserted = await client.query<MembershipRow>(
        `INSERT INTO memberships (account_id, tenant_id, role, abilities) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (account_id, tenant_id) DO NOTHING RETURNING *`,
        [account.id, input.tenantId, role, JSON.stringify(abilities)],
      );
      if (!inserted.rows[0]) throw new AppError(ErrorCode.CONFLICT, `${email} is already a member of this tenant`, { details: { field: 'email' } });
      const issued = await issueInvitation(client, this.deps.invitations, { tenantId: input.tenantId, email, invitedBy: principal.subject, now: this.deps.clock() });
      return { membership: inserted.rows[0], invitation: issued };
    });
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.invited',
      tenantId: input.tenantId,
      targetType: 'membership',
      targetId: membership.id,
      details: { email, role, abilities, invitationId: invitation?.id ?? null },
    });
    return { member: { ...membership, email, name: email, invitation_expires_at: invitation?.expiresAt ?? null }, invitation };
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
    return { ...after, email: before.email, name: before.name, invitation_expires_at: before.invitation_expires_at };
  }

  async remove(principal: UserPrincipal, id: string, request: ClientRequest): Promise<boolean> {
    const before = await this.find(id);
    await this.assertAdministers(principal, before.tenant_id);
    await inTransaction(this.deps.pool, async (client) => {
      await client.query('DELETE FROM memberships WHERE id = $1', [before.id]);
      // Accepting needs the membership anyway; revoking says so in the row, for whoever reads it later.
      await revokePendingInvitations(client, before.tenant_id, before.email, this.deps.clock());
    });
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.removed',
      tenantId: before.tenant_id,
      targetType: 'membership',
      targetId: before.id,
      details: { email: before.email, role: before.role },
    });
    return true;
  }

  /** One membership of a tenant the principal administers. */
  async get(principal: UserPrincipal, id: string): Promise<MemberView> {
    const row = await this.find(id);
    await this.assertAdministers(principal, row.tenant_id);
    return row;
  }

  private async find(id: string): Promise<MemberView> {
    const row = UUID_PATTERN.test(id)
      ? (await this.deps.pool.query<MemberView>(`${MEMBER_VIEW} WHERE m.id = $1`, [id])).rows[0]
      : undefined;
    if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Membership not found');
    return row;
  }
}
