/**
 * Two-factor sign-in (TOTP with otpauth, plus one-time recovery codes). The TOTP secret is stored
 * encrypted under the key ring (TENANCY_ENCRYPTION_KEYS, rotated with every other stored secret by
 * `keys:rotate`; src/tenancy/secrets/stored-secrets.ts); recovery codes as SHA-256 hashes, each removed when
 * used. A password sign-in that needs a second factor gets a challenge: a 5-minute JWT for the
 * account, audience `<JWT_AUDIENCE>#2fa`, useless as an access token.
 */
import { jwtVerify, SignJWT } from 'jose';
import * as OTPAuth from 'otpauth';
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { type KeyRing } from '../infra/crypto/key-ring.js';
import { totpSecretContext } from '../tenancy/secrets/stored-secrets.js';
import { type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { findAccountById } from './accounts.js';
import { type AccountRow, type Clock } from './auth-types.js';
import { randomSecret, sha256 } from './secrets.js';

const CHALLENGE_SECONDS = 300;
const RECOVERY_CODES = 10;
const ISSUER = 'tenantgraph';

export type TwoFactorDependencies = {
  pool: pg.Pool;
  keys: AccessTokenKeys;
  keyRing: KeyRing;
  requireForSystemAdmins: boolean;
  clock: Clock;
};

export type Enrolment = { secret: string; otpauthUri: string; recoveryCodes: string[] };

export class TwoFactor {
  constructor(private readonly deps: TwoFactorDependencies) {}

  requiredFor(account: AccountRow): boolean {
    return account.two_factor_enabled_at !== null || (account.is_system_admin && this.deps.requireForSystemAdmins);
  }

  challenge(account: AccountRow, tenant: string | null): Promise<string> {
    return new SignJWT({ tenant })
      .setProtectedHeader({ alg: 'HS256', kid: this.deps.keys.keyId })
      .setSubject(account.id)
      .setIssuer(this.deps.keys.issuer)
      .setAudience(this.challengeAudience)
      .setIssuedAt()
      .setExpirationTime(`${CHALLENGE_SECONDS}s`)
      .sign(this.deps.keys.key);
  }

  /** The account and tenant a challenge was issued for; UNAUTHENTICATED when it is not valid. */
  async openChallenge(challenge: string): Promise<{ account: AccountRow; tenant: string | null }> {
    try {
      const { payload } = await jwtVerify(challenge, (header) => this.deps.keys.verifyKeys.get(header.kid ?? '') ?? Promise.reject(new Error('kid')), {
        algorithms: ['HS256'],
        issuer: this.deps.keys.issuer,
        audience: this.challengeAudience,
      });
      const account = await findAccountById(this.deps.pool, String(payload.sub));
      if (!account?.is_active) throw new Error('account');
      return { account, tenant: typeof payload.tenant === 'string' ? payload.tenant : null };
    } catch (error) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'The two-factor challenge is invalid or expired; sign in again', { cause: error });
    }
  }

  /** Starts (or restarts) enrolment: a new secret and recovery codes, enabled once a code checks. */
  async enrol(account: AccountRow): Promise<Enrolment> {
    if (account.two_factor_enabled_at !== null) throw new AppError(ErrorCode.CONFLICT, 'Two-factor sign-in is already enabled for this account');
    const secret = new OTPAuth.Secret({ size: 20 });
    const totp = new OTPAuth.TOTP({ issuer: ISSUER, label: account.email, secret });
    const recoveryCodes = Array.from({ length: RECOVERY_CODES }, () => randomSecret(10));
    const sealed = this.deps.keyRing.encrypt(secret.base32, totpSecretContext(account.id));
    await this.deps.pool.query(
      'UPDATE accounts SET two_factor_secret_ciphertext = $2, two_factor_secret_key_id = $3, two_factor_recovery_hashes = $4::jsonb WHERE id = $1',
      [account.id, sealed.ciphertext, sealed.keyId, JSON.stringify(recoveryCodes.map(sha256))],
    );
    return { secret: secret.base32, otpauthUri: totp.toString(), recoveryCodes };
  }

  /**
   * Checks a TOTP code (±1 period, each period's code once) or a recovery code (enrolled accounts
   * only; it is used up). A correct TOTP code during enrolment enables two-factor sign-in.
   */
  async verify(account: AccountRow, code: string): Promise<{ ok: boolean; method: 'totp' | 'recovery' | null }> {
    if (!account.two_factor_secret_ciphertext) return { ok: false, method: null };
    const secret = this.deps.keyRing.decrypt(
      { ciphertext: account.two_factor_secret_ciphertext, keyId: account.two_factor_secret_key_id },
      totpSecretContext(account.id),
    );
    const totp = new OTPAuth.TOTP({ issuer: ISSUER, label: account.email, secret: OTPAuth.Secret.fromBase32(secret) });
    const cleaned = code.replace(/\s/g, '');
    const now = this.deps.clock().getTime();
    const delta = /^\d{6}$/.test(cleaned) ? totp.validate({ token: cleaned, timestamp: now, window: 1 }) : null;
    if (delta !== null) {
      // Each time step's code works once: the step is recorded atomically, so two concurrent
      // uses of one code (or a replay within its window) see one success.
      const step = totp.counter({ timestamp: now }) + delta;
      const accepted = await this.deps.pool.query(
        `UPDATE accounts SET two_factor_last_step = $2, two_factor_enabled_at = coalesce(two_factor_enabled_at, $3)
          WHERE id = $1 AND (two_factor_last_step IS NULL OR two_factor_last_step < $2)`,
        [account.id, step, this.deps.clock()],
      );
      return accepted.rowCount === 1 ? { ok: true, method: 'totp' } : { ok: false, method: null };
    }
    if (account.two_factor_enabled_at === null) return { ok: false, method: null };
    // Remove the code's hash atomically, so a recovery code works once even under concurrency.
    const used = await this.deps.pool.query(
      `UPDATE accounts SET two_factor_recovery_hashes = two_factor_recovery_hashes - $2
        WHERE id = $1 AND two_factor_recovery_hashes ? $2`,
      [account.id, sha256(cleaned)],
    );
    return used.rowCount === 1 ? { ok: true, method: 'recovery' } : { ok: false, method: null };
  }

  private get challengeAudience(): string {
    return `${this.deps.keys.audience}#2fa`;
  }
}
