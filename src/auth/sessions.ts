/**
 * Sign-in sessions: `login` (password, throttled, optionally a second factor), rotating refresh
 * tokens (reuse of a rotated token revokes its family), `logout` and `switchTenant`.
 *
 * Unknown account and wrong password take the same path: the same lookup, an argon2 verification
 * (of a dummy hash when there is no account), the same failure bookkeeping and the same answer.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { mintAccessToken, type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { findAccountById, findAccountByEmail, grantFor, normalizeEmail, type Grant } from './accounts.js';
import { type AuditLog } from './audit.js';
import { SESSION_ACCESS_TOKEN_MAX_SECONDS, type AccountRow, type ClientRequest, type Clock, type Session } from './auth-types.js';
import { type LoginThrottle } from './login-throttle.js';
import { verifyOrBurn } from './passwords.js';
import { randomSecret, sha256 } from './secrets.js';
import { type TwoFactor } from './two-factor.js';

export type SessionDependencies = {
  pool: pg.Pool;
  keys: AccessTokenKeys;
  throttle: LoginThrottle;
  audit: AuditLog;
  twoFactor: TwoFactor;
  clock: Clock;
  refreshTokenTtlSeconds: number;
};

const REFRESH_PREFIX = 'rt_';
const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH = 'Invalid or expired refresh token; sign in again';

type RefreshRow = { id: string; family_id: string; account_id: string; tenant_id: string | null; expires_at: Date; rotated_at: Date | null; revoked_at: Date | null };

export class Sessions {
  constructor(private readonly deps: SessionDependencies) {}

  /** Lifetime of sign-in access tokens: ACCESS_TOKEN_TTL_SECONDS, at most 15 minutes. */
  get accessTokenSeconds(): number {
    return Math.min(this.deps.keys.ttlSeconds, SESSION_ACCESS_TOKEN_MAX_SECONDS);
  }

  async login(input: { email: string; password: string; tenant: string | null }, request: ClientRequest): Promise<Session> {
    const email = normalizeEmail(input.email).slice(0, 320);
    const verdict = await this.deps.throttle.check(email, request.ip);
    if (verdict.locked) {
      await this.deps.audit.record({ subject: null, impersonatorId: null }, request, { action: 'auth.login_locked', details: { email } });
      throw new AppError(ErrorCode.RATE_LIMITED, `Too many failed sign-ins; try again in ${verdict.retryAfterSeconds} s`, {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
        details: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
    const account = await findAccountByEmail(this.deps.pool, email);
    const passwordOk = await verifyOrBurn(account?.is_active ? account.password_hash : null, input.password);
    if (!account || !passwordOk) {
      await this.deps.throttle.recordFailure(email, request.ip);
      await this.deps.audit.record({ subject: null, impersonatorId: null }, request, {
        action: 'auth.login_failed',
        targetType: 'account',
        details: { email },
      });
      throw new AppError(ErrorCode.UNAUTHENTICATED, INVALID_CREDENTIALS);
    }
    await this.deps.throttle.recordSuccess(email);
    return this.signIn(account, input.tenant ?? null, request, 'auth.login');
  }

  /**
   * Signs in an account whose first factor was just proven (a password, an accepted invitation):
   * TWO_FACTOR_REQUIRED with a challenge when it needs a second factor, else tokens for `tenant`.
   */
  async signIn(account: AccountRow, tenant: string | null, request: ClientRequest, action: string): Promise<Session> {
    const grant = await grantFor(this.deps.pool, account, tenant);
    if (this.deps.twoFactor.requiredFor(account)) {
      const challenge = await this.deps.twoFactor.challenge(account, tenant);
      await this.deps.audit.record({ subject: account.id, impersonatorId: null }, request, {
        action: 'auth.two_factor_challenged',
        tenantId: grant.tenantId,
        targetType: 'account',
        targetId: account.id,
      });
      throw new AppError(ErrorCode.TWO_FACTOR_REQUIRED, 'A second factor is required: send a code with verifyTwoFactor', {
        details: { challenge, enrolmentRequired: account.two_factor_enabled_at === null },
      });
    }
    return this.complete(account, grant, request, action);
  }

  /**
   * Completes a challenged sign-in with a TOTP or recovery code. Failures count against the
   * account like failed passwords (key `2fa:<account id>`), so six digits cannot be walked.
   */
  async verifySecondFactor(challenge: string, code: string, request: ClientRequest): Promise<Session> {
    const opened = await this.deps.twoFactor.openChallenge(challenge);
    const key = `2fa:${opened.account.id}`;
    const verdict = await this.deps.throttle.check(key, request.ip);
    if (verdict.locked) {
      throw new AppError(ErrorCode.RATE_LIMITED, `Too many wrong codes; try again in ${verdict.retryAfterSeconds} s`, {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
        details: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
    const result = await this.deps.twoFactor.verify(opened.account, code);
    if (!result.ok) {
      await this.deps.throttle.recordFailure(key, request.ip);
      await this.deps.audit.record({ subject: opened.account.id, impersonatorId: null }, request, {
        action: 'auth.two_factor_failed',
        targetType: 'account',
        targetId: opened.account.id,
      });
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid two-factor code');
    }
    await this.deps.throttle.recordSuccess(key);
    const grant = await grantFor(this.deps.pool, opened.account, opened.tenant);
    return this.complete(opened.account, grant, request, result.method === 'recovery' ? 'auth.login_recovery_code' : 'auth.login_two_factor');
  }

  /** The last step of a sign-in (after the password, and the second factor when there is one). */
  async complete(account: AccountRow, grant: Grant, request: ClientRequest, action: string): Promise<Session> {
    await this.deps.pool.query('UPDATE accounts SET last_login_at = $2 WHERE id = $1', [account.id, this.deps.clock()]);
    const session = await this.issue(account.id, grant, randomUUID());
    await this.deps.audit.record({ subject: account.id, impersonatorId: null }, request, {
      action,
      tenantId: grant.tenantId,
      targetType: 'account',
      targetId: account.id,
      details: { roles: grant.roles },
    });
    return session;
  }

  async refresh(token: string, request: ClientRequest): Promise<Session> {
    const now = this.deps.clock();
    if (!token.startsWith(REFRESH_PREFIX) || token.length > 200) throw new AppError(ErrorCode.UNAUTHENTICATED, INVALID_REFRESH);
    const row = (await this.deps.pool.query<RefreshRow>('SELECT * FROM refresh_tokens WHERE token_hash = $1', [sha256(token)])).rows[0];
    if (!row || row.revoked_at !== null || row.expires_at <= now) throw new AppError(ErrorCode.UNAUTHENTICATED, INVALID_REFRESH);
    // Rotate: exactly one caller wins; anyone presenting this token again is replaying it.
    const rotated = await this.deps.pool.query('UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL', [row.id, now]);
    if (rotated.rowCount !== 1) {
      await this.revokeFamily(row.family_id, now);
      await this.deps.audit.record({ subject: row.account_id, impersonatorId: null }, request, {
        action: 'auth.refresh_reused',
        tenantId: row.tenant_id,
        targetType: 'refresh_token_family',
        targetId: row.family_id,
      });
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'This refresh token was already used; every session of its sign-in is revoked. Sign in again');
    }
    const account = await findAccountById(this.deps.pool, row.account_id);
    if (!account?.is_active) throw new AppError(ErrorCode.UNAUTHENTICATED, INVALID_REFRESH);
    // Memberships are read again: a removed member cannot refresh into the tenant.
    const grant = await grantFor(this.deps.pool, account, row.tenant_id).catch(async (error: unknown) => {
      await this.revokeFamily(row.family_id, now);
      throw error;
    });
    return this.issue(account.id, grant, row.family_id);
  }

  /** Revokes the refresh token's whole sign-in; unknown tokens answer the same (nothing to reveal). */
  async logout(token: string, request: ClientRequest): Promise<boolean> {
    const row = (await this.deps.pool.query<RefreshRow>('SELECT * FROM refresh_tokens WHERE token_hash = $1', [sha256(token)])).rows[0];
    if (!row) return true;
    await this.revokeFamily(row.family_id, this.deps.clock());
    await this.deps.audit.record({ subject: row.account_id, impersonatorId: null }, request, {
      action: 'auth.logout',
      tenantId: row.tenant_id,
      targetType: 'refresh_token_family',
      targetId: row.family_id,
    });
    return true;
  }

  /** A token (and a new refresh family) for another tenant the signed-in account belongs to. */
  async switchTenant(accountId: string, tenant: string, request: ClientRequest): Promise<Session> {
    const account = await findAccountById(this.deps.pool, accountId);
    if (!account?.is_active) throw new AppError(ErrorCode.FORBIDDEN, 'switchTenant needs a signed-in account');
    const grant = await grantFor(this.deps.pool, account, tenant);
    const session = await this.issue(account.id, grant, randomUUID());
    await this.deps.audit.record({ subject: account.id, impersonatorId: null }, request, {
      action: 'auth.switch_tenant',
      tenantId: grant.tenantId,
      targetType: 'account',
      targetId: account.id,
    });
    return session;
  }

  private async issue(accountId: string, grant: Grant, familyId: string): Promise<Session> {
    const now = this.deps.clock();
    const ttl = this.accessTokenSeconds;
    const accessToken = await mintAccessToken(
      this.deps.keys,
      { subject: accountId, tenantId: grant.tenantId, roles: grant.roles, abilities: grant.abilities },
      { ttlSeconds: ttl },
    );
    const refreshToken = `${REFRESH_PREFIX}${randomSecret()}`;
    await this.deps.pool.query(
      'INSERT INTO refresh_tokens (family_id, account_id, tenant_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [familyId, accountId, grant.tenantId, sha256(refreshToken), new Date(now.getTime() + this.deps.refreshTokenTtlSeconds * 1000)],
    );
    // Access tokens carry real time (verifiers check it); the clock only governs what we store.
    return { accessToken, expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000), refreshToken };
  }

  private async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.deps.pool.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, now]);
  }
}
