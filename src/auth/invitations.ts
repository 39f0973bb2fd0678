/**
 * Invitations: how an account made without a password (inviteMember, a new tenant's first admin)
 * chooses one and signs in.
 *
 * The token (`inv_` + 256 random bits) is shown once, to whoever invited, in that mutation's answer
 * (or `tenantgraph members:invite` / `tenants:create` output); only its SHA-256 is stored, so no
 * query, log or database reader can recover it. An invitation names (tenant, email); accepting it
 * needs that email's account to exist without a password and to be a member of the tenant — so a
 * removed membership or a password set another way voids it without anyone cleaning up.
 *
 * Accepting is one transaction whose first statement claims the invitation (`accepted_at IS NULL`
 * in the WHERE): of two concurrent accepts, exactly one updates the row; the other finds it used.
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { inTransaction } from '../infra/db-transaction.js';
import { UUID_PATTERN } from '../tenancy/model.js';
import { type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { assertPassword, normalizeEmail } from './accounts.js';
import { actorOf, type AuditLog } from './audit.js';
import { ACCOUNT_COLUMNS, type AccountRow, type ClientRequest, type Clock, type Session } from './auth-types.js';
import { type LoginThrottle } from './login-throttle.js';
import { hashPassword } from './passwords.js';
import { randomSecret, sha256 } from './secrets.js';

const TOKEN_PREFIX = 'inv_';
const TOKEN_PATTERN = /^inv_[A-Za-z0-9_-]{43}$/;
const MAX_NAME_LENGTH = 200;

/** What issuing needs from the configuration (INVITATION_TTL_HOURS, INVITATION_URL). */
export type InvitationSettings = { ttlHours: number; url: string | undefined };

/** A token as handed out, this once. */
export type IssuedInvitation = { id: string; email: string; token: string; url: string | null; expiresAt: Date };

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

type InvitationRow = { id: string; tenant_id: string; email: string; expires_at: Date; accepted_at: Date | null; revoked_at: Date | null };

/**
 * A new invitation for `email` in a tenant, replacing (revoking) any pending one of the same
 * person there. None (null) when the email's account already has a password: that person signs
 * in with it. Runs on `db`, so a caller's transaction covers it.
 */
export async function issueInvitation(
  db: Queryable,
  settings: InvitationSettings,
  input: { tenantId: string; email: string; invitedBy: string | null; now: Date },
): Promise<IssuedInvitation | null> {
  const email = normalizeEmail(input.email);
  const existing = await db.query<{ has_password: boolean }>('SELECT password_hash IS NOT NULL AS has_password FROM accounts WHERE email = $1', [email]);
  if (existing.rows[0]?.has_password) return null;
  await revokePendingInvitations(db, input.tenantId, email, input.now);
  const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
  const expiresAt = new Date(input.now.getTime() + settings.ttlHours * 3600_000);
  const row = await db.query<{ id: string }>(
    `INSERT INTO invitations (tenant_id, email, token_hash, expires_at, invited_by, created_at)
     VALUES ($1, $2, $3, $4, (SELECT id FROM accounts WHERE id::text = $5), $6) RETURNING id`,
    [input.tenantId, email, sha256(token), expiresAt, input.invitedBy, input.now],
  );
  return { id: row.rows[0]!.id, email, token, url: invitationUrl(settings, token), expiresAt };
}

/** Voids the pending invitations of one person in one tenant (resend, removeMember). */
export async function revokePendingInvitations(db: Queryable, tenantId: string, email: string, now: Date): Promise<void> {
  await db.query('UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL', [
    tenantId,
    normalizeEmail(email),
    now,
  ]);
}

/** The accepting page's address with the token in the fragment: browsers never send a fragment to a server, so it stays out of access logs. */
function invitationUrl(settings: InvitationSettings, token: string): string | null {
  return settings.url ? `${settings.url}#token=${encodeURIComponent(token)}` : null;
}

export type InvitationDependencies = {
  pool: pg.Pool;
  audit: AuditLog;
  /** The sign-in throttle: wrong tokens count against the client address as wrong passwords do. */
  throttle: LoginThrottle;
  clock: Clock;
  settings: InvitationSettings;
  /** Signs the person in as login does (second factor when required, then tokens). */
  signIn(account: AccountRow, tenantId: string, request: ClientRequest, action: string): Promise<Session>;
  /** FORBIDDEN unless the principal administers the tenant (Members.assertAdministers). */
  assertAdministers(principal: UserPrincipal, tenantId: string): Promise<void>;
};

export type MembershipRef = { id: string; tenant_id: string; account_id: string; email: string; has_password: boolean };

export class Invitations {
  constructor(private readonly deps: InvitationDependencies) {}

  /** A new token for a member who has not set a password; the earlier one stops working. */
  async resend(principal: UserPrincipal, membershipId: string, request: ClientRequest): Promise<{ membershipId: string; invitation: IssuedInvitation }> {
    const membership = UUID_PATTERN.test(membershipId)
      ? (
          await this.deps.pool.query<MembershipRef>(
            `SELECT m.id, m.tenant_id, m.account_id, a.email, a.password_hash IS NOT NULL AS has_password
               FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.id = $1`,
            [membershipId],
          )
        ).rows[0]
      : undefined;
    if (!membership) throw new AppError(ErrorCode.NOT_FOUND, 'Membership not found');
    await this.deps.assertAdministers(principal, membership.tenant_id);
    if (membership.has_password) {
      throw new AppError(ErrorCode.CONFLICT, 'This account has a password already: it signs in with it (no invitation needed)', { details: { field: 'membershipId' } });
    }
    const invitation = await inTransaction(this.deps.pool, (client) =>
      issueInvitation(client, this.deps.settings, { tenantId: membership.tenant_id, email: membership.email, invitedBy: principal.subject, now: this.deps.clock() }),
    );
    // issueInvitation answers null only for an account with a password, which was just ruled out (a race with an accept lands here).
    if (!invitation) throw new AppError(ErrorCode.CONFLICT, 'This account has a password already: it signs in with it (no invitation needed)', { details: { field: 'membershipId' } });
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'member.invitation_resent',
      tenantId: membership.tenant_id,
      targetType: 'membership',
      targetId: membership.id,
      details: { email: membership.email, invitationId: invitation.id, expiresAt: invitation.expiresAt.toISOString() },
    });
    return { membershipId: membership.id, invitation };
  }

  /**
   * Sets the password (the sign-in policy, argon2id) and signs the person in to the invitation's
   * tenant. Every refusal changes nothing; unknown tokens count against the client address.
   */
  async accept(input: { token: string; password: string; name: string | null }, request: ClientRequest): Promise<Session> {
    const throttleKey = `invitation:${request.ip ?? 'unknown'}`;
    const verdict = await this.deps.throttle.check(throttleKey, request.ip);
    if (verdict.locked) {
      await this.deps.audit.record({ subject: null, impersonatorId: null }, request, { action: 'auth.invitation_locked' });
      throw new AppError(ErrorCode.RATE_LIMITED, `Too many invalid invitations; try again in ${verdict.retryAfterSeconds} s`, {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
        details: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
    const name = input.name === null ? null : input.name.trim();
    if (name !== null && (name.length === 0 || name.length > MAX_NAME_LENGTH)) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `A name needs 1 to ${MAX_NAME_LENGTH} characters`, { details: { field: 'name' } });
    }
    const row = TOKEN_PATTERN.test(input.token)
      ? (await this.deps.pool.query<InvitationRow>('SELECT * FROM invitations WHERE token_hash = $1', [sha256(input.token)])).rows[0]
      : undefined;
    if (!row) {
      await this.deps.throttle.recordFailure(throttleKey, request.ip);
      await this.deps.audit.record({ subject: null, impersonatorId: null }, request, { action: 'auth.invitation_failed' });
      throw new AppError(ErrorCode.INVITATION_INVALID, 'This invitation is not valid; ask for a new one', { details: { field: 'token' } });
    }
    const now = this.deps.clock();
    const unusable = stateError(row, now);
    if (unusable) throw unusable;
    assertPassword(input.password); // after the token: a policy message is no help to someone guessing tokens
    const passwordHash = await hashPassword(input.password);
    const account = await inTransaction(this.deps.pool, async (client) => {
      const claimed = await client.query(
        'UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2',
        [row.id, now],
      );
      if (claimed.rowCount !== 1) {
        const current = (await client.query<InvitationRow>('SELECT * FROM invitations WHERE id = $1', [row.id])).rows[0];
        throw (current && stateError(current, now)) ?? revoked();
      }
      const tenant = await client.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1 AND deleted_at IS NULL FOR SHARE', [row.tenant_id]);
      const status = tenant.rows[0]?.status;
      if (status === 'PROVISIONING') throw new AppError(ErrorCode.CONFLICT, 'The tenant is still being set up; try again in a minute', { details: { field: 'token' } });
      if (status !== 'ACTIVE' && status !== 'SUSPENDED') throw revoked();
      const updated = await client.query<AccountRow>(
        `UPDATE accounts SET password_hash = $2, name = COALESCE($3, name), updated_at = now()
          WHERE email = $1 AND password_hash IS NULL AND is_active RETURNING ${ACCOUNT_COLUMNS}`,
        [row.email, passwordHash, name],
      );
      const account = updated.rows[0];
      if (!account) throw revoked();
      // FOR SHARE: a removeMember running now waits for this transaction, then finds the account signed up.
      const member = await client.query('SELECT 1 FROM memberships WHERE account_id = $1 AND tenant_id = $2 FOR SHARE', [account.id, row.tenant_id]);
      if (member.rowCount !== 1) throw revoked();
      // The account has a password now: its invitations to other tenants are void (it signs in there with it).
      await client.query('UPDATE invitations SET revoked_at = $2 WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL', [row.email, now]);
      return account;
    });
    await this.deps.audit.record({ subject: account.id, impersonatorId: null }, request, {
      action: 'auth.invitation_accepted',
      tenantId: row.tenant_id,
      targetType: 'account',
      targetId: account.id,
      details: { invitationId: row.id },
    });
    return this.deps.signIn(account, row.tenant_id, request, 'auth.login_invitation');
  }
}

/** Why a known invitation cannot be used now, or undefined when it can. */
function stateError(row: InvitationRow, now: Date): AppError | undefined {
  if (row.accepted_at !== null) return new AppError(ErrorCode.INVITATION_USED, 'This invitation was used already; sign in with your password', { details: { field: 'token' } });
  if (row.revoked_at !== null) return revoked();
  if (row.expires_at <= now) return new AppError(ErrorCode.INVITATION_EXPIRED, 'This invitation has expired; ask an administrator to send a new one', { details: { field: 'token' } });
  return undefined;
}

function revoked(): AppError {
  return new AppError(ErrorCode.INVITATION_REVOKED, 'This invitation was withdrawn or replaced; sign in, or ask an administrator for a new one', { details: { field: 'token' } });
}
