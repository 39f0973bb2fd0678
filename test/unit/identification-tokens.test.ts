import { SignJWT, base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../../src/errors/index.js';
import { makeAccessTokenKeys, mintAccessToken, verifyAccessToken } from '../../src/tenancy/identification/access-tokens.js';
import { authenticate } from '../../src/tenancy/identification/identify-request.js';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const settings = { keyId: 'k1', issuer: 'tenantgraph', audience: 'tenantgraph-api', accessTokenTtlSeconds: 3600 };
const keys = await makeAccessTokenKeys(SECRET, settings);
const TENANT = '2b0c6a1e-8d5f-4a53-9c1e-3f4b5a6c7d8e';

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

async function expectUnauthenticated(promise: Promise<unknown>, message?: RegExp) {
  const error = await rejection(promise);
  expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
  expect((error.extensions.http as { status: number }).status).toBe(401);
  if (message) expect(error.message).toMatch(message);
}

const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('access tokens', () => {
  it('round-trips claims into a principal', async () => {
    const token = await mintAccessToken(keys, {
      subject: 'acc-1',
      tenantId: TENANT,
      roles: ['admin', 'system_admin'],
      abilities: ['patients:read'],
      impersonatorId: 'acc-9',
    });
    expect(await verifyAccessToken(keys, token)).toEqual({
      kind: 'user',
      subject: 'acc-1',
      tenantId: TENANT,
      roles: ['admin', 'system_admin'],
      abilities: ['patients:read'],
      isSystemAdmin: true,
      impersonatorId: 'acc-9',
    });
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
  });

  it('mints central tokens without tid or act', async () => {
    const token = await mintAccessToken(keys, { subject: 'acc-2', roles: ['member'] });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).not.toHaveProperty('tid');
    expect(payload).not.toHaveProperty('act');
    expect(payload).toMatchObject({ iss: 'tenantgraph', aud: 'tenantgraph-api', sub: 'acc-2' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    const principal = await verifyAccessToken(keys, token);
    expect(principal).toMatchObject({ tenantId: null, impersonatorId: null, isSystemAdmin: false, abilities: [] });
  });

  it('refuses an expired token', async () => {
    const token = await mintAccessToken(keys, { subject: 'acc-1' }, { ttlSeconds: 60, now: new Date(Date.now() - 2 * 3600_000) });
    await expectUnauthenticated(verifyAccessToken(keys, token), /expired/);
  });

  it('accepts a token until it expires, within the clock tolerance', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const token = await mintAccessToken(keys, { subject: 'acc-1' }, { ttlSeconds: 60, now });
    await expect(verifyAccessToken(keys, token, { now: new Date(now.getTime() + 59_000) })).resolves.toMatchObject({ subject: 'acc-1' });
    await expectUnauthenticated(verifyAccessToken(keys, token, { now: new Date(now.getTime() + 70_000) }), /expired/);
  });

  it('refuses a token signed with another secret', async () => {
    const other = await makeAccessTokenKeys('another-secret-another-secret-0123456789', settings);
    await expectUnauthenticated(verifyAccessToken(keys, await mintAccessToken(other, { subject: 'acc-1' })), /Invalid access token/);
  });

  it('refuses an unsigned `alg: none` token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'acc-1', iss: 'tenantgraph', aud: 'tenantgraph-api', iat: now, exp: now + 600, roles: ['system_admin'] };
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT', kid: 'k1' }, { alg: 'None', kid: 'k1' }]) {
      await expectUnauthenticated(verifyAccessToken(keys, `${b64json(header)}.${b64json(claims)}.`));
    }
  });

  it('refuses other algorithms, even with the right secret', async () => {
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS512', kid: 'k1' })
      .setSubject('acc-1')
      .setIssuer('tenantgraph')
      .setAudience('tenantgraph-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    await expectUnauthenticated(verifyAccessToken(keys, token));
  });

  it('refuses a wrong key id, issuer or audience', async () => {
    for (const wrong of [{ keyId: 'k2' }, { issuer: 'someone-else' }, { audience: 'another-api' }]) {
      const otherKeys = await makeAccessTokenKeys(SECRET, { ...settings, ...wrong });
      await expectUnauthenticated(verifyAccessToken(keys, await mintAccessToken(otherKeys, { subject: 'acc-1' })));
    }
  });

  it('refuses a token without kid', async () => {
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('acc-1')
      .setIssuer('tenantgraph')
      .setAudience('tenantgraph-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    await expectUnauthenticated(verifyAccessToken(keys, token));
  });

  it('refuses a tampered payload', async () => {
    const token = await mintAccessToken(keys, { subject: 'acc-1', roles: ['member'] });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${b64json({ ...claims, roles: ['system_admin'] })}.${signature}`;
    await expectUnauthenticated(verifyAccessToken(keys, forged));
  });

  it('refuses well-signed tokens with malformed claims', async () => {
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setSubject('acc-1')
        .setIssuer('tenantgraph')
        .setAudience('tenantgraph-api')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(SECRET));
    await expectUnauthenticated(verifyAccessToken(keys, await sign({ roles: 'admin' })));
    await expectUnauthenticated(verifyAccessToken(keys, await sign({ tid: 'not-a-uuid' })));
    await expectUnauthenticated(verifyAccessToken(keys, await sign({ act: 'acc-9' })));
  });

  it('refuses garbage', async () => {
    for (const garbage of ['', 'abc', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..', '....']) await expectUnauthenticated(verifyAccessToken(keys, garbage));
  });
});

describe('authenticate (Authorization header)', () => {
  it('is anonymous without the header', async () => {
    expect(await authenticate(undefined, keys)).toEqual({ kind: 'anonymous' });
  });

  it('accepts `Bearer <token>`, any case of the scheme', async () => {
    const token = await mintAccessToken(keys, { subject: 'acc-1', roles: ['member'] });
    expect(await authenticate(`Bearer ${token}`, keys)).toMatchObject({ kind: 'user', subject: 'acc-1' });
    expect(await authenticate(`bearer ${token}`, keys)).toMatchObject({ kind: 'user', subject: 'acc-1' });
  });

  it('refuses empty, other schemes and garbage with UNAUTHENTICATED', async () => {
    const token = await mintAccessToken(keys, { subject: 'acc-1' });
    for (const header of ['', ' ', 'Bearer', 'Bearer ', 'Bearer    ', `Basic ${token}`, token, `Bearer ${token} extra`, 'Bearer garbage', `Bearer ${'x'.repeat(10_000)}`]) {
      await expectUnauthenticated(authenticate(header, keys));
    }
  });
});

describe('token lifetime', () => {
  /** Signs a token with arbitrary iat/exp, as someone holding the key (or a buggy issuer) could. */
  const signed = (iat: number, exp: number) =>
    new SignJWT({ roles: [], abilities: [] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('acc-1')
      .setIssuer('tenantgraph')
      .setAudience('tenantgraph-api')
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(keys.key);
  const now = () => Math.floor(Date.now() / 1000);

  it('refuses a token issued more than 60 s in the future, accepts one within the skew', async () => {
    await expectUnauthenticated(verifyAccessToken(keys, await signed(now() + 120, now() + 600)), /issued in the future/);
    await expect(verifyAccessToken(keys, await signed(now() + 30, now() + 600))).resolves.toMatchObject({ subject: 'acc-1' });
  });

  it('refuses a token living longer than ACCESS_TOKEN_MAX_TTL_SECONDS (default 24 h), even one a century long', async () => {
    await expectUnauthenticated(verifyAccessToken(keys, await signed(now(), now() + 100 * 365 * 86_400)), /lives longer/);
    await expectUnauthenticated(verifyAccessToken(keys, await signed(now(), now() + 86_401)), /lives longer/);
    await expect(verifyAccessToken(keys, await signed(now(), now() + 86_400))).resolves.toMatchObject({ subject: 'acc-1' });
    const strict = await makeAccessTokenKeys(SECRET, { ...settings, accessTokenMaxTtlSeconds: 600 });
    await expectUnauthenticated(verifyAccessToken(strict, await signed(now(), now() + 3600)), /lives longer/);
  });

  it('does not mint what it would refuse', async () => {
    await expect(mintAccessToken(keys, { subject: 'acc-1' }, { ttlSeconds: 86_401 })).rejects.toThrow(/at most 86400/);
  });
});
