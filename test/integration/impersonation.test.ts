import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, ME, PASSWORD, type TenantTree } from '../helpers/auth.js';

const IMPERSONATE = `mutation ($tenantId: ID!, $accountId: ID, $reason: String!) {
  impersonate(tenantId: $tenantId, accountId: $accountId, reason: $reason) { code expiresAt accountId }
}`;
const REDEEM = `mutation ($code: String!) { redeemImpersonation(code: $code) { accessToken expiresAt refreshToken } }`;

type Code = { impersonate: { code: string; expiresAt: string; accountId: string } };
type Redeemed = { redeemImpersonation: { accessToken: string; expiresAt: string; refreshToken: string | null } };

/** The clock the auth services read; a test moves it forward to pass the code's 60 seconds. */
let offsetMs = 0;
let app: TestApp;
let tree: TenantTree;
let clinicAdmin: { id: string; email: string };
let groupAAdminToken: string;
let groupBAdminToken: string;
let systemAdminToken: string;

async function loginAs(email: string, tenant?: string): Promise<string> {
  const result = await app.gql<{ login: { accessToken: string } }>(LOGIN, { email, password: PASSWORD, tenant });
  if (!result.body.data) throw new Error(JSON.stringify(result.body.errors));
  return result.body.data.login.accessToken;
}

beforeAll(async () => {
  app = await startTestApp({ REQUIRE_ADMIN_2FA: 'false' }, { auth: { ...AUTH_TEST_OPTIONS, clock: () => new Date(Date.now() + offsetMs) } });
  tree = await makeTenantTree(app.central.pool);
  clinicAdmin = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'admin' }] });
  await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicB, role: 'admin' }] });
  const groupAAdmin = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.groupA, role: 'admin' }] });
  const groupBAdmin = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.groupB, role: 'admin' }] });
  const systemAdmin = await makeAccount(app.central.pool, { systemAdmin: true });
  groupAAdminToken = await loginAs(groupAAdmin.email);
  groupBAdminToken = await loginAs(groupBAdmin.email);
  systemAdminToken = await loginAs(systemAdmin.email);
});
afterAll(() => app?.stop());

describe('impersonate', () => {
  it('an ancestor admin gets a code, redeems it once for a 15-minute act token without refresh, and endImpersonation revokes it at once', async () => {
    const started = await app.gql<Code>(IMPERSONATE, { tenantId: tree.clinicA, reason: 'support ticket 42' }, bearer(groupAAdminToken));
    expect(started.body.errors).toBeUndefined();
    const { code, accountId } = started.body.data!.impersonate;
    expect(accountId).toBe(clinicAdmin.id); // the tenant's first admin by default
    const stored = await app.central.pool.query('SELECT token_hash FROM impersonation_tokens WHERE tenant_id = $1', [tree.clinicA]);
    expect(JSON.stringify(stored.rows)).not.toContain(code);

    const redeemed = await app.gql<Redeemed>(REDEEM, { code }, bearer(groupAAdminToken));
    expect(redeemed.body.errors).toBeUndefined();
    const { accessToken, refreshToken } = redeemed.body.data!.redeemImpersonation;
    expect(refreshToken).toBeNull();
    const claims = decodeJwt(accessToken);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
    const me = await app.gql<{ me: { subject: string; impersonatorId: string; tenantId: string } }>(ME, {}, bearer(accessToken));
    expect(me.body.data!.me).toMatchObject({ subject: clinicAdmin.id, tenantId: tree.clinicA });
    expect(me.body.data!.me.impersonatorId).toBe(claims.act && (claims.act as { sub: string }).sub);

    // Used twice: refused.
    const again = await app.gql(REDEEM, { code }, bearer(groupAAdminToken));
    expect(again.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    // The impersonation token cannot impersonate again, nor switch tenant, nor mint API tokens.
    const nested = await app.gql(IMPERSONATE, { tenantId: tree.clinicA2, reason: 'nested' }, bearer(accessToken));
    expect(nested.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(nested.body.errors?.[0]?.message).toMatch(/impersonating/);
    const mint = await app.gql(`mutation { createApiToken(name: "x", abilities: ["patients:read"]) { token } }`, {}, bearer(accessToken));
    expect(mint.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const ended = await app.gql(`mutation { endImpersonation }`, {}, bearer(accessToken));
    expect(ended.body.data).toEqual({ endImpersonation: true });
    const afterEnd = await app.gql(ME, {}, bearer(accessToken));
    expect(afterEnd.status).toBe(401);
    expect(afterEnd.body.errors?.[0]?.message).toMatch(/impersonation has ended/);
  });

  it('an impersonation token cannot refresh: no refresh token, and refreshToken refuses what it is given', async () => {
    const { code } = (await app.gql<Code>(IMPERSONATE, { tenantId: tree.clinicA, reason: 'refresh check' }, bearer(systemAdminToken))).body.data!.impersonate;
    const { accessToken } = (await app.gql<Redeemed>(REDEEM, { code }, bearer(systemAdminToken))).body.data!.redeemImpersonation;
    // The access token itself is not a refresh token.
    const refresh = await app.gql(`mutation ($t: String!) { refreshToken(token: $t) { accessToken } }`, { t: accessToken }, bearer(accessToken));
    expect(refresh.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const switched = await app.gql(`mutation ($t: String!) { switchTenant(tenant: $t) { accessToken } }`, { t: tree.slugs.clinica2 }, bearer(accessToken));
    expect(switched.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('an admin of another branch is FORBIDDEN, and nothing is stored', async () => {
    const before = await app.central.pool.query('SELECT count(*)::int AS n FROM impersonation_tokens');
    const result = await app.gql(IMPERSONATE, { tenantId: tree.clinicA, reason: 'not my clinic' }, bearer(groupBAdminToken));
    expect(result.status).toBe(403);
    expect(result.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.body.errors?.[0]?.message).toMatch(/system_admin.*admin of an ancestor/);
    const after = await app.gql(IMPERSONATE, { tenantId: tree.clinicA, reason: 'not my clinic' }, bearer(await loginAs(clinicAdmin.email)));
    expect(after.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // its own tenant is not an ancestor
    const count = await app.central.pool.query('SELECT count(*)::int AS n FROM impersonation_tokens');
    expect(count.rows[0].n).toBe(before.rows[0].n);
  });

  it('a code is bound to its impersonator', async () => {
    const { code } = (await app.gql<Code>(IMPERSONATE, { tenantId: tree.clinicA, reason: 'binding check' }, bearer(groupAAdminToken))).body.data!.impersonate;
    expect((await app.gql(REDEEM, { code }, bearer(systemAdminToken))).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await app.gql(REDEEM, { code })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Still unused: its impersonator can redeem it.
    expect((await app.gql<Redeemed>(REDEEM, { code }, bearer(groupAAdminToken))).body.data?.redeemImpersonation.accessToken).toBeTruthy();
  });

  it('a code expires after 60 seconds', async () => {
    const { code } = (await app.gql<Code>(IMPERSONATE, { tenantId: tree.clinicA, reason: 'expiry check' }, bearer(groupAAdminToken))).body.data!.impersonate;
    offsetMs = 61_000;
    try {
      const late = await app.gql(REDEEM, { code }, bearer(groupAAdminToken));
      expect(late.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      offsetMs = 0;
    }
  });

  it('system admins cannot be impersonated, and unknown roles in arguments are refused', async () => {
    const admin = await makeAccount(app.central.pool, { systemAdmin: true, memberships: [{ tenantId: tree.clinicA2, role: 'member' }] });
    const result = await app.gql(IMPERSONATE, { tenantId: tree.clinicA2, accountId: admin.id, reason: 'escalation' }, bearer(groupAAdminToken));
    expect(result.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
