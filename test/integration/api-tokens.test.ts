import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, ME, PASSWORD, type TenantTree } from '../helpers/auth.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const CREATE = `mutation ($name: String!, $abilities: [String!]!, $expiresAt: DateTimeISO) {
  createApiToken(name: $name, abilities: $abilities, expiresAt: $expiresAt) { token apiToken { id prefix abilities tenantId } }
}`;
type Created = { createApiToken: { token: string; apiToken: { id: string; prefix: string; abilities: string[]; tenantId: string } } };

let first: TestApp;
let second: TestApp;
let tree: TenantTree;
let adminToken: string;

beforeAll(async () => {
  [first, second] = await Promise.all([startTestApp({}, { auth: AUTH_TEST_OPTIONS }), startTestApp({}, { auth: AUTH_TEST_OPTIONS })]);
  tree = await makeTenantTree(first.central.pool);
  const admin = await makeAccount(first.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'admin' }] });
  adminToken = (await first.gql<{ login: { accessToken: string } }>(LOGIN, { email: admin.email, password: PASSWORD })).body.data!.login.accessToken;
});
afterAll(() => Promise.all([first?.stop(), second?.stop()]));

describe('API tokens', () => {
  it('are shown once as tg_<prefix>_<secret>, stored hashed, and act in their tenant with their abilities only', async () => {
    const created = await first.gql<Created>(CREATE, { name: 'ci', abilities: ['patients:read'] }, bearer(adminToken));
    expect(created.body.errors).toBeUndefined();
    const { token, apiToken } = created.body.data!.createApiToken;
    expect(token).toMatch(new RegExp(`^tg_${apiToken.prefix}_[A-Za-z0-9_-]{43}$`));
    expect(apiToken.tenantId).toBe(tree.clinicA);
    const stored = await first.central.pool.query('SELECT * FROM api_tokens WHERE id = $1', [apiToken.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(token.slice(12));

    const me = await second.gql<{ me: { tenantId: string; abilities: string[]; roles: string[] } }>(ME, {}, bearer(token));
    expect(me.body.data!.me).toMatchObject({ tenantId: tree.clinicA, abilities: ['patients:read'], roles: [] });
    // Scoped to its tenant: another tenant's host is a mismatch.
    const elsewhere = await second.gql(ME, {}, { ...bearer(token), 'x-tenant': tree.slugs.clinicb });
    expect(elsewhere.body.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|TENANT_MISMATCH/);
    // Its abilities only: no member administration, and the refusal names what is missing.
    const members = await second.gql(`query ($t: ID!) { members(tenantId: $t) { id } }`, { t: tree.clinicA }, bearer(token));
    expect(members.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(members.body.errors?.[0]?.message).toMatch(/system_admin or admin/);
    // An API token cannot mint API tokens.
    expect((await second.gql(CREATE, { name: 'x', abilities: ['patients:read'] }, bearer(token))).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a revoked token is refused by a second server process within a second', async () => {
    const other: ServerProcess = await startServerProcess();
    try {
      const { token, apiToken } = (await first.gql<Created>(CREATE, { name: 'revoke-me-too', abilities: ['patients:read'] }, bearer(adminToken))).body.data!.createApiToken;
      expect((await other.gql(ME, {}, bearer(token))).status).toBe(200);
      const revoked = await first.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id }, bearer(adminToken));
      expect(revoked.body.errors).toBeUndefined();
      const revokedAt = Date.now();
      let refusedAfter = Infinity;
      while (Date.now() - revokedAt < 3_000) {
        if ((await other.gql(ME, {}, bearer(token))).status === 401) {
          refusedAfter = Date.now() - revokedAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(refusedAfter).toBeLessThanOrEqual(1_000);
    } finally {
      await other.stop();
    }
  }, 90_000);

  it('a revoked token is refused by another server instance within a second', async () => {
    const { token, apiToken } = (await first.gql<Created>(CREATE, { name: 'revoke-me', abilities: ['patients:read'] }, bearer(adminToken))).body.data!.createApiToken;
    // The second instance has looked the token up, so it sits in that instance's cache.
    expect((await second.gql(ME, {}, bearer(token))).status).toBe(200);
    const revoked = await first.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id }, bearer(adminToken));
    expect(revoked.body.errors).toBeUndefined();
    const revokedAt = Date.now();
    expect((await first.gql(ME, {}, bearer(token))).status).toBe(401); // at once where it was revoked
    let refusedAfter = Infinity;
    while (Date.now() - revokedAt < 3_000) {
      if ((await second.gql(ME, {}, bearer(token))).status === 401) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refusedAfter).toBeLessThanOrEqual(1_000);
  });

  it('refuses unknown abilities, abilities beyond its creator, and past expiry; expired tokens stop working', async () => {
    const unknown = await first.gql(CREATE, { name: 'bad', abilities: ['patient:read'] }, bearer(adminToken));
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknown.body.errors?.[0]?.message).toMatch(/Unknown ability "patient:read"/);
    const member = await makeAccount(first.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member', abilities: ['patients:read'] }] });
    const memberToken = (await first.gql<{ login: { accessToken: string } }>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.accessToken;
    const beyond = await first.gql(CREATE, { name: 'more', abilities: ['patients:write'] }, bearer(memberToken));
    expect(beyond.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(beyond.body.errors?.[0]?.message).toMatch(/patients:write/);
    const past = await first.gql(CREATE, { name: 'past', abilities: ['patients:read'], expiresAt: new Date(Date.now() - 1000).toISOString() }, bearer(adminToken));
    expect(past.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const soon = (await first.gql<Created>(CREATE, { name: 'soon', abilities: ['patients:read'], expiresAt: new Date(Date.now() + 1500).toISOString() }, bearer(adminToken))).body.data!
      .createApiToken.token;
    expect((await first.gql(ME, {}, bearer(soon))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    expect((await first.gql(ME, {}, bearer(soon))).status).toBe(401);
  });

  it('records last use at most once a minute', async () => {
    const { token, apiToken } = (await first.gql<Created>(CREATE, { name: 'used', abilities: ['patients:read'] }, bearer(adminToken))).body.data!.createApiToken;
    await first.gql(ME, {}, bearer(token));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const once = (await first.central.pool.query('SELECT last_used_at FROM api_tokens WHERE id = $1', [apiToken.id])).rows[0].last_used_at as Date;
    expect(once).toBeInstanceOf(Date);
    for (let i = 0; i < 3; i++) await second.gql(ME, {}, bearer(token));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = (await first.central.pool.query('SELECT last_used_at FROM api_tokens WHERE id = $1', [apiToken.id])).rows[0].last_used_at as Date;
    expect(later.getTime()).toBe(once.getTime());
    const list = await first.gql<{ apiTokens: { id: string; lastUsedAt: string }[] }>(`{ apiTokens { id lastUsedAt } }`, {}, bearer(adminToken));
    expect(list.body.data!.apiTokens.find((entry) => entry.id === apiToken.id)?.lastUsedAt).toBe(once.toISOString());
  });
});
