/**
 * Everything sign-in needs, built once per process (app.ts) and reached by resolvers through
 * `context.services.auth`. No tenant state lives here: caches are keyed by credential hashes.
 */
import type pg from 'pg';
import { type Config } from '../config.js';
import { type KeyRing } from '../infra/crypto/key-ring.js';
import { type Logger } from '../infra/logger.js';
import { type RedisClient } from '../infra/redis.js';
import { type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { type CredentialChecks } from '../tenancy/identification/identification-types.js';
import { type TenantDirectory } from '../tenancy/identification/tenant-directory.js';
import { ApiTokens } from './api-tokens.js';
import { AuditLog } from './audit.js';
import { type Clock } from './auth-types.js';
import { Impersonations } from './impersonation.js';
import { Invitations } from './invitations.js';
import { LoginThrottle } from './login-throttle.js';
import { Members } from './members.js';
import { warmPasswordHashing } from './passwords.js';
import { Sessions } from './sessions.js';
import { TwoFactor } from './two-factor.js';

export type AuthServices = {
  pool: pg.Pool;
  audit: AuditLog;
  sessions: Sessions;
  twoFactor: TwoFactor;
  apiTokens: ApiTokens;
  impersonations: Impersonations;
  members: Members;
  invitations: Invitations;
  /** What identification uses to accept API tokens and check impersonation sessions. */
  credentials: CredentialChecks;
};

export type AuthOptions = {
  config: Config;
  pool: pg.Pool;
  keys: AccessTokenKeys;
  /** Encrypts the TOTP secrets (the tenancy's ring: one set of keys for every stored secret). */
  keyRing: KeyRing;
  directory: TenantDirectory;
  logger: Logger;
  redis?: RedisClient;
  /** Default: the real time. Tests step it to pass expiries. */
  clock?: Clock;
  /** Prefix of the throttle's Redis keys; default `tg:login`. */
  throttleKeyPrefix?: string;
  /** Per-IP failure limit; default 10 × LOGIN_MAX_FAILURES. */
  maxFailuresPerIp?: number;
};

export async function createAuthServices(options: AuthOptions): Promise<AuthServices> {
  const { config, pool, keys, directory } = options;
  const clock = options.clock ?? (() => new Date());
  const audit = new AuditLog(pool);
  const twoFactor = new TwoFactor({
    pool,
    keys,
    clock,
    requireForSystemAdmins: config.auth.requireAdmin2fa,
    keyRing: options.keyRing,
  });
  const throttle = new LoginThrottle({
    maxFailures: config.auth.loginMaxFailures,
    maxFailuresPerIp: options.maxFailuresPerIp,
    lockSeconds: config.auth.loginLockSeconds,
    redis: options.redis,
    keyPrefix: options.throttleKeyPrefix,
  });
  const sessions = new Sessions({ pool, keys, throttle, audit, twoFactor, clock, refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds });
  const apiTokens = new ApiTokens({ pool, audit, clock, logger: options.logger });
  const impersonations = new Impersonations({ pool, keys, directory, audit, clock });
  const invitationSettings = { ttlHours: config.auth.invitationTtlHours, url: config.auth.invitationUrl };
  const members = new Members({ pool, directory, audit, clock, invitations: invitationSettings });
  const invitations = new Invitations({
    pool,
    audit,
    throttle,
    clock,
    settings: invitationSettings,
    signIn: (account, tenantId, request, action) => sessions.signIn(account, tenantId, request, action),
    assertAdministers: (principal, tenantId) => members.assertAdministers(principal, tenantId),
  });
  // The first unknown-account sign-in would otherwise also pay for hashing the dummy password.
  await warmPasswordHashing();
  return {
    pool,
    audit,
    sessions,
    twoFactor,
    apiTokens,
    impersonations,
    members,
    invitations,
    credentials: {
      isApiToken: (token) => apiTokens.isApiToken(token),
      apiToken: (token) => apiTokens.authenticate(token),
      impersonation: (token, principal) => impersonations.check(token, principal),
    },
  };
}
