import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, ME, PASSWORD, type TenantTree } from '../helpers/auth.js';

type Tokens = { login: { accessToken: string; expiresAt: string; refreshToken: string } };
type Refreshed = { refreshToken: { accessToken: string; refreshToken: string } };
const REFRESH = `mutation ($token: String!) { refreshToken(token: $token) { accessToken expiresAt refreshToken } }`;

let app: TestApp;
let tree: TenantTree;

beforeAll(async () => {
  app = await startTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '2', REQUIRE_ADMIN_2FA: 'false' }, { auth: AUTH_TEST_OPTIONS });
  tree = await makeTenantTree(app.central.pool);
});
afterAll(() => app?.stop());

describe('login', () => {
  it('signs a member in to its tenant with a short-lived token and a refresh token', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member', abilities: ['patients:read'] }] });
    const result = await app.gql<Tokens>(LOGIN, { email: member.email.toUpperCase(), password: PASSWORD });
    expect(result.body.errors).toBeUndefined();
    const { accessToken, refreshToken, expiresAt } = result.body.data!.login;
    expect(refreshToken).toMatch(/^rt_/);
    const claims = decodeJwt(accessToken);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
    expect(new Date(expiresAt).getTime()).toBe(claims.exp! * 1000);
    const me = await app.gql<{ me: { subject: string; tenantId: string; roles: string[]; abilities: string[] } }>(ME, {}, bearer(accessToken));
    expect(me.body.data!.me).toMatchObject({ subject: member.id, tenantId: tree.clinicA, roles: ['member'], abilities: ['patients:read'] });
  });

  it('answers an unknown account and a wrong password the same way', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const wrong = await app.gql(LOGIN, { email: member.email, password: 'not the password at all' });
    const unknown = await app.gql(LOGIN, { email: `nobody-${Date.now()}@example.test`, password: 'not the password at all' });
    for (const result of [wrong, unknown]) {
      expect(result.status).toBe(401);
      expect(result.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect(wrong.body.errors![0]!.message).toBe(unknown.body.errors![0]!.message);
    expect(wrong.body.data).toEqual(unknown.body.data);
  });

  it('gives a system admin a central token, and a token for any tenant it names', async () => {
    const admin = await makeAccount(app.central.pool, { systemAdmin: true });
    const central = await app.gql<Tokens>(LOGIN, { email: admin.email, password: PASSWORD });
    expect(decodeJwt(central.body.data!.login.accessToken)).toMatchObject({ roles: ['system_admin'] });
    expect(decodeJwt(central.body.data!.login.accessToken).tid).toBeUndefined();
    const scoped = await app.gql<Tokens>(LOGIN, { email: admin.email, password: PASSWORD, tenant: tree.slugs.clinicb });
    expect(decodeJwt(scoped.body.data!.login.accessToken)).toMatchObject({ tid: tree.clinicB, roles: ['system_admin'] });
  });

  it('refuses a tenant the account does not belong to, naming the role it lacks', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const result = await app.gql(LOGIN, { email: member.email, password: PASSWORD, tenant: tree.slugs.clinicb });
    expect(result.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.body.errors?.[0]?.message).toMatch(/not a member.*role member or admin/);
  });

  it('locks an account after the configured failures, for the configured time, and then lets it in', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    for (let i = 0; i < 3; i++) {
      expect((await app.gql(LOGIN, { email: member.email, password: 'wrong password here' })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    // Locked: even the right password is refused, with Retry-After.
    const locked = await app.gql(LOGIN, { email: member.email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // An unknown account is locked the same way (a lock reveals nothing).
    const ghost = `ghost-${Date.now()}@example.test`;
    for (let i = 0; i < 3; i++) await app.gql(LOGIN, { email: ghost, password: 'wrong password here' });
    expect((await app.gql(LOGIN, { email: ghost, password: 'wrong password here' })).body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    const after = await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD });
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data!.login.accessToken).toBeTruthy();
  });
});

describe('refresh tokens', () => {
  it('rotate; a rotated token used again revokes the whole family', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const first = (await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.refreshToken;
    const second = await app.gql<Refreshed>(REFRESH, { token: first });
    expect(second.body.errors).toBeUndefined();
    const secondToken = second.body.data!.refreshToken.refreshToken;
    expect(secondToken).not.toBe(first);
    // The first token again: a replay. Refused, and the newest token of its family dies too.
    const replay = await app.gql(REFRESH, { token: first });
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.message).toMatch(/already used/);
    const afterReplay = await app.gql(REFRESH, { token: secondToken });
    expect(afterReplay.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const family = await app.central.pool.query('SELECT count(*)::int AS live FROM refresh_tokens WHERE account_id = $1 AND revoked_at IS NULL', [member.id]);
    expect(family.rows[0].live).toBe(0);
  });

  it('stores only hashes', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const token = (await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.refreshToken;
    const rows = await app.central.pool.query('SELECT token_hash FROM refresh_tokens WHERE account_id = $1', [member.id]);
    expect(rows.rows.map((row) => row.token_hash)).not.toContain(token);
    expect(JSON.stringify(rows.rows)).not.toContain(token.slice(3));
  });

  it('logout ends the sign-in', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const token = (await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.refreshToken;
    expect((await app.gql(`mutation ($t: String!) { logout(refreshToken: $t) }`, { t: token })).body.data).toEqual({ logout: true });
    expect((await app.gql(REFRESH, { token })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a removed member cannot refresh into the tenant', async () => {
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const token = (await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.refreshToken;
    await app.central.pool.query('DELETE FROM memberships WHERE account_id = $1', [member.id]);
    expect((await app.gql(REFRESH, { token })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('switchTenant', () => {
  it('gives a token for another tenant the account belongs to, and refuses others', async () => {
    const member = await makeAccount(app.central.pool, {
      memberships: [
        { tenantId: tree.clinicA, role: 'member' },
        { tenantId: tree.clinicA2, role: 'admin' },
      ],
    });
    const login = await app.gql<Tokens>(LOGIN, { email: member.email, password: PASSWORD, tenant: tree.slugs.clinica });
    const access = login.body.data!.login.accessToken;
    const switched = await app.gql<{ switchTenant: { accessToken: string } }>(
      `mutation ($t: String!) { switchTenant(tenant: $t) { accessToken refreshToken } }`,
      { t: tree.slugs.clinica2 },
      bearer(access),
    );
    expect(decodeJwt(switched.body.data!.switchTenant.accessToken)).toMatchObject({ tid: tree.clinicA2, roles: ['admin'] });
    const refused = await app.gql(`mutation ($t: String!) { switchTenant(tenant: $t) { accessToken } }`, { t: tree.slugs.clinicb }, bearer(access));
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the JWT key ring', () => {
  it('signs with the newest key and still accepts tokens of older ones', async () => {
    const oldKey = 'old-key-old-key-old-key-old-key-0123456789';
    const newKey = 'new-key-new-key-new-key-new-key-0123456789';
    const before = await startTestApp({ JWT_KEYS: `k1=${oldKey}` });
    const after = await startTestApp({ JWT_KEYS: `k2=${newKey},k1=${oldKey}` });
    const gone = await startTestApp({ JWT_KEYS: `k2=${newKey}` });
    try {
      const oldToken = await before.token({ subject: 'acc-1', roles: ['member'] });
      const newToken = await after.token({ subject: 'acc-1', roles: ['member'] });
      expect(decodeProtectedHeader(newToken).kid).toBe('k2');
      expect((await after.gql(ME, {}, bearer(oldToken))).body.data).toMatchObject({ me: { authenticated: true } });
      expect((await after.gql(ME, {}, bearer(newToken))).body.data).toMatchObject({ me: { authenticated: true } });
      // Once k1 leaves the ring, its tokens are refused.
      expect((await gone.gql(ME, {}, bearer(oldToken))).status).toBe(401);
    } finally {
      await Promise.all([before.stop(), after.stop(), gone.stop()]);
    }
  });
});
