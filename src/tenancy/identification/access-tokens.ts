/**
 * JWT access tokens: HS256 under a key ring (the newest key signs, every key verifies, chosen by
 * `kid`), with issuer, audience and expiry. Only HS256 is accepted; `alg: none`, other
 * algorithms, an unknown `kid`, a wrong `iss` or `aud`, a bad signature and an expired token are
 * all UNAUTHENTICATED.
 */
import { LRUCache } from 'lru-cache';
import { randomUUID, webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { type Config } from '../../config.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { UUID_PATTERN } from '../model.js';
import { userPrincipal, type UserPrincipal } from './identification-types.js';

const ALGORITHM = 'HS256';

/** What signs and checks access tokens. Build with `loadAccessTokenKeys` (or `makeAccessTokenKeys`). */
export type AccessTokenKeys = Readonly<{
  /** The signing key and its id (the newest of the ring). */
  key: webcrypto.CryptoKey;
  keyId: string;
  /** Every key that verifies, by kid (the signing key included). */
  verifyKeys: ReadonlyMap<string, webcrypto.CryptoKey>;
  issuer: string;
  audience: string;
  /** Lifetime of minted tokens unless a mint says otherwise. Default ACCESS_TOKEN_TTL_SECONDS = 3600. */
  ttlSeconds: number;
  /** Longest lifetime (exp - iat) accepted or minted. Default ACCESS_TOKEN_MAX_TTL_SECONDS = 86400. */
  maxTtlSeconds: number;
}>;

/** How far in the future `iat` may be (clock skew between the minting and the verifying host). */
export const MAX_IAT_SKEW_SECONDS = 60;
const DEFAULT_MAX_TTL_SECONDS = 86_400;

export type AccessTokenClaims = {
  /** Account id; becomes `sub`. */
  subject: string;
  /** Tenant the token is for (`tid`); null or absent for a central token. */
  tenantId?: string | null;
  roles?: readonly string[];
  abilities?: readonly string[];
  /** Account impersonating `subject`; becomes `act: { sub }`. */
  impersonatorId?: string | null;
};

/** Imports the HMAC key once, so signing and verifying do not re-import it per request. */
export async function makeAccessTokenKeys(
  secret: string | Uint8Array,
  settings: Pick<Config['jwt'], 'keyId' | 'issuer' | 'audience' | 'accessTokenTtlSeconds'> & { accessTokenMaxTtlSeconds?: number },
): Promise<AccessTokenKeys> {
  return makeAccessTokenKeyRing([{ kid: settings.keyId, secret }], settings);
}

/** A key ring, newest first: the first key signs, all verify. */
export async function makeAccessTokenKeyRing(
  ring: readonly { kid: string; secret: string | Uint8Array }[],
  settings: Pick<Config['jwt'], 'issuer' | 'audience' | 'accessTokenTtlSeconds'> & { accessTokenMaxTtlSeconds?: number },
): Promise<AccessTokenKeys> {
  if (ring.length === 0) throw new Error('makeAccessTokenKeyRing: at least one key is required');
  const verifyKeys = new Map<string, webcrypto.CryptoKey>();
  for (const { kid, secret } of ring) {
    if (verifyKeys.has(kid)) continue;
    const raw = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    verifyKeys.set(kid, await webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']));
  }
  const keyId = ring[0]!.kid;
  return Object.freeze({
    key: verifyKeys.get(keyId)!,
    keyId,
    verifyKeys,
    issuer: settings.issuer,
    audience: settings.audience,
    ttlSeconds: settings.accessTokenTtlSeconds,
    maxTtlSeconds: settings.accessTokenMaxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS,
  });
}

/**
 * Signs an access token.
 * @param options.ttlSeconds lifetime; default `keys.ttlSeconds`
 * @param options.now issue time; default the current time (tests pass one to mint expired tokens)
 */
export async function mintAccessToken(
  keys: AccessTokenKeys,
  claims: AccessTokenClaims,
  options: { ttlSeconds?: number; now?: Date } = {},
): Promise<string> {
  if (!claims.subject) throw new Error('mintAccessToken: subject is required');
  if (claims.tenantId != null && !UUID_PATTERN.test(claims.tenantId)) throw new Error('mintAccessToken: tenantId must be a uuid');
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const ttl = options.ttlSeconds ?? keys.ttlSeconds;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error('mintAccessToken: ttlSeconds must be a positive whole number');
  if (ttl > keys.maxTtlSeconds) throw new Error(`mintAccessToken: ttlSeconds may be at most ${keys.maxTtlSeconds} (ACCESS_TOKEN_MAX_TTL_SECONDS)`);
  const payload: Record<string, unknown> = { roles: [...(claims.roles ?? [])], abilities: [...(claims.abilities ?? [])] };
  if (claims.tenantId) payload.tid = claims.tenantId;
  if (claims.impersonatorId) payload.act = { sub: claims.impersonatorId };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: keys.keyId })
    .setSubject(claims.subject)
    .setIssuer(keys.issuer)
    .setAudience(keys.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl)
    .setJti(randomUUID())
    .sign(keys.key);
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  tid: z.string().regex(UUID_PATTERN).optional(),
  roles: z.array(z.string().min(1).max(100)).max(100).default([]),
  abilities: z.array(z.string().min(1).max(200)).max(1000).default([]),
  act: z.object({ sub: z.string().min(1).max(200) }).optional(),
});

/**
 * Checks an access token and returns its principal; anything wrong is UNAUTHENTICATED.
 * @param options.now the time to check expiry against; default the current time
 * @param options.clockToleranceSeconds accepted clock skew between minting and verifying hosts; default 5
 */
export async function verifyAccessToken(
  keys: AccessTokenKeys,
  token: string,
  options: { now?: Date; clockToleranceSeconds?: number } = {},
): Promise<UserPrincipal> {
  return (await verifyWithExpiry(keys, token, options)).principal;
}

/**
 * Verified tokens by their exact text, until they expire. A client sends the same token with
 * every request, and HMAC verification plus claim validation cost more than the rest of
 * identification together. Only successes are cached (a forged token is checked every time),
 * entries are frozen (shared by requests), bounded per key set, and never outlive `exp`.
 */
const verifiedTokens = new WeakMap<AccessTokenKeys, LRUCache<string, { principal: UserPrincipal; expiresAtMs: number }>>();

/** verifyAccessToken with the cache above; the request path uses this. */
export async function verifyAccessTokenCached(keys: AccessTokenKeys, token: string): Promise<UserPrincipal> {
  let cache = verifiedTokens.get(keys);
  if (!cache) {
    cache = new LRUCache({ max: 10_000 });
    verifiedTokens.set(keys, cache);
  }
  const hit = cache.get(token);
  if (hit && hit.expiresAtMs > Date.now()) return hit.principal;
  const { principal, expiresAt } = await verifyWithExpiry(keys, token, {});
  const frozen = Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]), abilities: Object.freeze([...principal.abilities]) }) as UserPrincipal;
  cache.set(token, { principal: frozen, expiresAtMs: expiresAt * 1000 });
  return frozen;
}

async function verifyWithExpiry(
  keys: AccessTokenKeys,
  token: string,
  options: { now?: Date; clockToleranceSeconds?: number },
): Promise<{ principal: UserPrincipal; expiresAt: number }> {
  let payload: unknown;
  try {
    // The key id picks the ring's key; a token from a key no longer in the ring (or another installation) is refused.
    const verified = await jwtVerify(token, (header) => keys.verifyKeys.get(header.kid ?? '') ?? Promise.reject(invalidToken()), {
      algorithms: [ALGORITHM],
      issuer: keys.issuer,
      audience: keys.audience,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      ...(options.now ? { currentDate: options.now } : {}),
    });
    assertSaneLifetime(keys, verified.payload, options.now);
    payload = verified.payload;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Access token has expired', { cause: error });
    throw invalidToken(error);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw invalidToken(claims.error);
  const principal = userPrincipal({
    subject: claims.data.sub,
    tenantId: claims.data.tid?.toLowerCase() ?? null,
    roles: claims.data.roles,
    abilities: claims.data.abilities,
    impersonatorId: claims.data.act?.sub ?? null,
  });
  return { principal, expiresAt: (payload as { exp: number }).exp };
}

/**
 * jose checks `exp` and `nbf` but not `iat` on its own: a token "issued" in the future, or one
 * living longer than any this server mints (a leaked signing key's forgery, a misconfigured
 * issuer), is refused. Both checks are on the token alone, so a cached success stays valid.
 */
function assertSaneLifetime(keys: AccessTokenKeys, payload: { iat?: unknown; exp?: unknown }, now: Date | undefined): void {
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw invalidToken();
  const nowSeconds = Math.floor((now ?? new Date()).getTime() / 1000);
  if (iat > nowSeconds + MAX_IAT_SKEW_SECONDS) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Access token is issued in the future');
  if (exp - iat > keys.maxTtlSeconds) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Access token lives longer than this server accepts');
}

function invalidToken(cause?: unknown): AppError {
  return new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid access token', { cause });
}
