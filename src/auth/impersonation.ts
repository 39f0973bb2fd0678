/**
 * Audited impersonation (after stancl/tenancy's single-use impersonation tokens):
 * `start` issues a 60-second exchange code, stored hashed and bound to the impersonator;
 * `redeem` trades it once for an access token with an `act` claim (≤ 15 min, no refresh token);
 * `end` revokes that token at once. Impersonation tokens are checked against their session on
 * every request (cached ≤ 0.5 s in process, evicted here on `end`).
 */
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { mintAccessToken, type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { UUID_PATTERN } from '../tenancy/model.js';
import { chainRecords, chainTarget, TENANT_ADMIN_ROLE, type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { type TenantDirectory } from '../tenancy/identification/tenant-directory.js';
import { findAccountById, type MembershipRow } from './accounts.js';
import { actorOf, type AuditActor, type AuditLog } from './audit.js';
import { SESSION_ACCESS_TOKEN_MAX_SECONDS, type ClientRequest, type Clock, type Session } from './auth-types.js';
import { randomSecret, sha256 } from './secrets.js';

export const EXCHANGE_CODE_SECONDS = 60;
const SESSION_CACHE_MS = 500;
/** `act.sub` of impersonations an operator started with `tenantgraph impersonate`. */
export const CLI_IMPERSONATOR = 'cli';

type ImpersonationRow = {
  id: string;
  tenant_id: string;
  impersonator_id: string | null;
  target_account_id: string;
  issued_by: 'api' | 'cli';
  reason: string | null;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  ended_at: Date | null;
  access_expires_at: Date | null;
};

export type ImpersonationDependencies = { pool: pg.Pool; keys: AccessTokenKeys; directory: Pick<TenantDirectory, 'findById'>; audit: AuditLog; clock: Clock };

export type Impersonator = { kind: 'account'; principal: UserPrincipal } | { kind: 'cli'; label: string };

export class Impersonations {
  private readonly sessions = new LRUCache<string, { id: string; live: boolean }>({ max: 10_000, ttl: SESSION_CACHE_MS });

  constructor(private readonly deps: ImpersonationDependencies) {}

  async start(
    impersonator: Impersonator,
    input: { tenantId: string; accountId: string | null; reason: string },
    request: ClientRequest,
  ): Promise<{ code: string; expiresAt: Date; targetAccountId: string }> {
    const reason = input.reason.trim();
    if (reason.length < 3 || reason.length > 500) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Give a reason of 3 to 500 characters', { details: { field: 'reason' } });
    const chain = UUID_PATTERN.test(input.tenantId) ? await this.deps.directory.findById(input.tenantId) : undefined;
    if (!chain || chainTarget(chain).deletedAt !== null) throw new AppError(ErrorCode.TENANT_NOT_FOUND, 'Tenant not found');
    const tenantId = chainTarget(chain).id;
    let impersonatorId: string | null = null;
    if (impersonator.kind === 'account') {
      const principal = impersonator.principal;
      const ancestors = chainRecords(chain).slice(0, -1).map((record) => record.id);
      const allowed = principal.isSystemAdmin || (principal.roles.includes(TENANT_ADMIN_ROLE) && principal.tenantId !== null && ancestors.includes(principal.tenantId));
      if (!allowed) throw new AppError(ErrorCode.FORBIDDEN, 'impersonate needs role system_admin, or role admin of an ancestor of this tenant');
      if (!(await findAccountById(this.deps.pool, principal.subject))) throw new AppError(ErrorCode.FORBIDDEN, 'impersonate needs a signed-in account');
      impersonatorId = principal.subject;
    }
    const target = await this.targetMembership(tenantId, input.accountId);
    if (target.account_id === impersonatorId) throw new AppError(ErrorCode.BAD_USER_INPUT, 'You cannot impersonate yourself', { details: { field: 'accountId' } });
    const code = `imp_${randomSecret()}`;
    const expiresAt = new Date(this.deps.clock().getTime() + EXCHANGE_CODE_SECONDS * 1000);
    const row = (
      await this.deps.pool.query<{ id: string }>(
        `INSERT INTO impersonation_tokens (tenant_id, impersonator_id, target_account_id, token_hash, reason, expires_at, issued_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [tenantId, impersonatorId, target.account_id, sha256(code), reason, expiresAt, impersonator.kind === 'account' ? 'api' : 'cli'],
      )
    ).rows[0]!;
    await this.deps.audit.record(this.actor(impersonator), request, {
      action: 'impersonation.requested',
      tenantId,
      targetType: 'account',
      targetId: target.account_id,
      details: { impersonation: row.id, reason, issuedBy: impersonator.kind },
    });
    return { code, expiresAt, targetAccountId: target.account_id };
  }

  /**
   * Trades an exchange code for an impersonation access token. A code an account asked for is
   * redeemed only by that account (not itself impersonating); a code from the CLI by whoever holds it.
   */
  async redeem(caller: UserPrincipal | null, code: string, request: ClientRequest): Promise<Session> {
    const now = this.deps.clock();
    const hash = sha256(code);
    const row = (await this.deps.pool.query<ImpersonationRow>('SELECT * FROM impersonation_tokens WHERE token_hash = $1', [hash])).rows[0];
    const refuse = async (why: string) => {
      await this.deps.audit.record(caller ? actorOf(caller) : { subject: null, impersonatorId: null }, request, {
        action: 'impersonation.code_refused',
        tenantId: row?.tenant_id ?? null,
        targetType: 'impersonation',
        targetId: row?.id ?? null,
        details: { why },
      });
      return new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid, used or expired impersonation code');
    };
    if (!row) throw await refuse('unknown');
    if (row.issued_by === 'api' && (caller?.subject !== row.impersonator_id || caller.impersonatorId !== null || caller.credential)) {
      throw await refuse('not the impersonator');
    }
    const claimed = await this.deps.pool.query(
      'UPDATE impersonation_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2',
      [row.id, now],
    );
    if (claimed.rowCount !== 1) throw await refuse(row.used_at ? 'used' : 'expired');
    const membership = (
      await this.deps.pool.query<MembershipRow>('SELECT * FROM memberships WHERE tenant_id = $1 AND account_id = $2', [row.tenant_id, row.target_account_id])
    ).rows[0];
    if (!membership) throw await refuse('target no longer a member');
    const ttl = Math.min(this.deps.keys.ttlSeconds, SESSION_ACCESS_TOKEN_MAX_SECONDS);
    const impersonatorId = row.impersonator_id ?? CLI_IMPERSONATOR;
    const accessToken = await mintAccessToken(
      this.deps.keys,
      { subject: row.target_account_id, tenantId: row.tenant_id, roles: [membership.role], abilities: membership.abilities, impersonatorId },
      { ttlSeconds: ttl },
    );
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000);
    await this.deps.pool.query('UPDATE impersonation_tokens SET access_token_hash = $2, access_expires_at = $3 WHERE id = $1', [row.id, sha256(accessToken), expiresAt]);
    await this.deps.audit.record({ subject: row.target_account_id, impersonatorId }, request, {
      action: 'impersonation.started',
      tenantId: row.tenant_id,
      targetType: 'account',
      targetId: row.target_account_id,
      details: { impersonation: row.id, reason: row.reason },
    });
    return { accessToken, expiresAt, refreshToken: null };
  }

  async end(principal: UserPrincipal, request: ClientRequest): Promise<boolean> {
    if (principal.credential?.kind !== 'impersonation') throw new AppError(ErrorCode.FORBIDDEN, 'endImpersonation needs an impersonation token');
    const id = principal.credential.id;
    await this.deps.pool.query('UPDATE impersonation_tokens SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [id, this.deps.clock()]);
    this.sessions.clear();
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'impersonation.ended',
      tenantId: principal.tenantId,
      targetType: 'account',
      targetId: principal.subject,
      details: { impersonation: id },
    });
    return true;
  }

  /** An impersonation access token is live while its session has not ended. */
  async check(token: string, principal: UserPrincipal): Promise<UserPrincipal> {
    const hash = sha256(token);
    let session = this.sessions.get(hash);
    if (!session) {
      const row = (await this.deps.pool.query<{ id: string; ended_at: Date | null }>('SELECT id, ended_at FROM impersonation_tokens WHERE access_token_hash = $1', [hash]))
        .rows[0];
      session = { id: row?.id ?? '', live: row !== undefined && row.ended_at === null };
      this.sessions.set(hash, session);
    }
    if (!session.live) throw new AppError(ErrorCode.UNAUTHENTICATED, 'This impersonation has ended');
    return { ...principal, credential: { kind: 'impersonation', id: session.id } };
  }

  private async targetMembership(tenantId: string, accountId: string | null): Promise<MembershipRow> {
    const row = accountId
      ? UUID_PATTERN.test(accountId)
        ? (await this.deps.pool.query<MembershipRow>('SELECT * FROM memberships WHERE tenant_id = $1 AND account_id = $2', [tenantId, accountId])).rows[0]
        : undefined
      : (
          await this.deps.pool.query<MembershipRow>(
            `SELECT * FROM memberships WHERE tenant_id = $1 AND role = $2 ORDER BY created_at, id LIMIT 1`,
            [tenantId, TENANT_ADMIN_ROLE],
          )
        ).rows[0];
    if (!row) throw new AppError(ErrorCode.NOT_FOUND, accountId ? 'No member with this account id in this tenant' : 'This tenant has no admin to impersonate; pass accountId');
    const account = await findAccountById(this.deps.pool, row.account_id);
    // A system admin's powers never travel through an impersonation.
    if (!account || account.is_system_admin) throw new AppError(ErrorCode.FORBIDDEN, 'System admins cannot be impersonated');
    return row;
  }

  private actor(impersonator: Impersonator): AuditActor {
    return impersonator.kind === 'account' ? actorOf(impersonator.principal) : { subject: `cli:${impersonator.label}`, impersonatorId: null };
  }
}
