import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, PASSWORD, type TenantTree } from '../helpers/auth.js';

type Row = { action: string; actor_account_id: string | null; impersonator_account_id: string | null; tenant_id: string | null; details: unknown; ip_address: string | null; user_agent: string | null; request_id: string | null };

let app: TestApp;
let tree: TenantTree;

beforeAll(async () => {
  app = await startTestApp({ REQUIRE_ADMIN_2FA: 'false' }, { auth: AUTH_TEST_OPTIONS });
  tree = await makeTenantTree(app.central.pool);
});
afterAll(() => app?.stop());

async function login(email: string, password = PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const result = await app.gql<{ login: { accessToken: string; refreshToken: string } }>(LOGIN, { email, password });
  if (!result.body.data) throw new Error(JSON.stringify(result.body.errors));
  return result.body.data.login;
}

describe('the audit log', () => {
  it('has a row for every action, attributed to both identities while impersonating, with no secret in any row', async () => {
    const secrets: string[] = [PASSWORD];
    const groupAdmin = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.groupA, role: 'admin' }] });
    const clinicAdmin = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'admin' }] });
    const since = (await app.central.pool.query<{ max: string | null }>('SELECT max(id)::text AS max FROM audit_logs')).rows[0]!.max ?? '0';
    const ua = { 'user-agent': 'audit-test/1.0', 'x-request-id': 'audit-req-1' };

    await app.gql(LOGIN, { email: groupAdmin.email, password: 'a wrong password, surely' }, ua); // auth.login_failed
    secrets.push('a wrong password, surely');
    const session = await login(groupAdmin.email); // auth.login
    secrets.push(session.accessToken, session.refreshToken);
    const refreshed = await app.gql<{ refreshToken: { refreshToken: string; accessToken: string } }>(
      `mutation ($t: String!) { refreshToken(token: $t) { accessToken refreshToken } }`,
      { t: session.refreshToken },
    );
    secrets.push(refreshed.body.data!.refreshToken.refreshToken, refreshed.body.data!.refreshToken.accessToken);
    await app.gql(`mutation ($t: String!) { refreshToken(token: $t) { accessToken } }`, { t: session.refreshToken }); // auth.refresh_reused
    const second = await login(groupAdmin.email);
    secrets.push(second.accessToken, second.refreshToken);
    const admin = bearer(second.accessToken);

    const invited = await app.gql<{ inviteMember: { member: { id: string } } }>(
      `mutation ($t: ID!) { inviteMember(tenantId: $t, email: "new.nurse@example.test", role: "member", abilities: ["patients:read"]) { member { id } } }`,
      { t: tree.clinicA },
      admin,
    );
    expect(invited.body.errors).toBeUndefined();
    const membershipId = invited.body.data!.inviteMember.member.id;
    await app.gql(`mutation ($id: ID!) { updateMember(id: $id, abilities: ["patients:*"]) { id } }`, { id: membershipId }, admin);

    const code = (await app.gql<{ impersonate: { code: string } }>(`mutation ($t: ID!) { impersonate(tenantId: $t, reason: "ticket 7") { code } }`, { t: tree.clinicA }, admin))
      .body.data!.impersonate.code;
    secrets.push(code);
    const impersonated = (await app.gql<{ redeemImpersonation: { accessToken: string } }>(`mutation ($c: String!) { redeemImpersonation(code: $c) { accessToken } }`, { c: code }, admin))
      .body.data!.redeemImpersonation.accessToken;
    secrets.push(impersonated);
    const created = await app.gql<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(name: "by impersonation", abilities: ["patients:read"]) { token apiToken { id } } }`,
      {},
      bearer(impersonated),
    );
    expect(created.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // not while impersonating
    // Every operation while impersonating is recorded under both identities.
    await app.gql(`query WhoAmI { me { subject } }`, {}, bearer(impersonated));
    // Administrative mutations while impersonating are allowed and carry both identities.
    await app.gql(`mutation ($id: ID!) { removeMember(id: $id) }`, { id: membershipId }, bearer(impersonated));
    await app.gql(`mutation { endImpersonation }`, {}, bearer(impersonated));

    const clinicSession = await login(clinicAdmin.email);
    secrets.push(clinicSession.accessToken, clinicSession.refreshToken);
    const token = (
      await app.gql<{ createApiToken: { token: string; apiToken: { id: string } } }>(
        `mutation { createApiToken(name: "ci", abilities: ["patients:read"]) { token apiToken { id } } }`,
        {},
        bearer(clinicSession.accessToken),
      )
    ).body.data!.createApiToken;
    secrets.push(token.token);
    await app.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: token.apiToken.id }, bearer(clinicSession.accessToken));
    await app.gql(`mutation ($t: String!) { switchTenant(tenant: $t) { accessToken } }`, { t: tree.slugs.clinica }, bearer(clinicSession.accessToken));
    const enrolment = await app.gql<{ enrolTwoFactor: { secret: string; recoveryCodes: string[] } }>(
      `mutation { enrolTwoFactor { secret otpauthUri recoveryCodes } }`,
      {},
      bearer(clinicSession.accessToken),
    );
    secrets.push(enrolment.body.data!.enrolTwoFactor.secret, ...enrolment.body.data!.enrolTwoFactor.recoveryCodes);
    await app.gql(`mutation ($t: String!) { logout(refreshToken: $t) }`, { t: clinicSession.refreshToken });

    const rows = (await app.central.pool.query<Row>('SELECT * FROM audit_logs WHERE id > $1 ORDER BY id', [since])).rows;
    const actions = rows.map((row) => row.action);
    for (const action of [
      'auth.login_failed',
      'auth.login',
      'auth.refresh_reused',
      'member.invited',
      'member.updated',
      'impersonation.requested',
      'impersonation.started',
      'member.removed',
      'impersonation.ended',
      'api_token.created',
      'api_token.revoked',
      'auth.switch_tenant',
      'auth.two_factor_enrolment_started',
      'auth.logout',
    ]) {
      expect(actions, action).toContain(action);
    }
    const failed = rows.find((row) => row.action === 'auth.login_failed')!;
    expect(failed).toMatchObject({ user_agent: 'audit-test/1.0', request_id: 'audit-req-1' });
    expect(failed.ip_address).toBe('127.0.0.1');
    const request = rows.find((row) => row.action === 'impersonation.request' && JSON.stringify(row.details).includes('WhoAmI'))!;
    expect(request).toMatchObject({ actor_account_id: clinicAdmin.id, impersonator_account_id: groupAdmin.id, details: { operation: 'query', operationName: 'WhoAmI' } });
    const removed = rows.find((row) => row.action === 'member.removed')!;
    expect(removed).toMatchObject({ actor_account_id: clinicAdmin.id, impersonator_account_id: groupAdmin.id, tenant_id: tree.clinicA });
    const text = JSON.stringify(rows);
    for (const secret of secrets) expect(text.includes(secret), `a secret leaked into the audit log: ${secret.slice(0, 12)}…`).toBe(false);
  });

  it('cannot be changed or deleted, even by the database owner', async () => {
    await app.gql(LOGIN, { email: 'nobody-here@example.test', password: 'whatever it is' });
    const id = (await app.central.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM audit_logs')).rows[0]!.id;
    await expect(app.central.pool.query(`UPDATE audit_logs SET action = 'rewritten' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(app.central.pool.query('DELETE FROM audit_logs WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(app.central.pool.query('TRUNCATE audit_logs')).rejects.toThrow(/append-only/);
    const grants = await app.central.pool.query(`SELECT has_table_privilege('public', 'audit_logs', 'UPDATE') AS can_update`);
    expect(grants.rows[0].can_update).toBe(false);
  });

  it('shows system admins everything and a tenant admin only its own subtree', async () => {
    const adminA = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'admin' }] });
    const adminB = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicB, role: 'admin' }] });
    const memberB = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicB, role: 'member', abilities: ['*'] }] });
    const system = await makeAccount(app.central.pool, { systemAdmin: true });
    const tokenA = (await login(adminA.email)).accessToken;
    const tokenB = (await login(adminB.email)).accessToken;
    const QUERY = `query ($t: ID) { auditLogs(filter: { tenantId: $t }, first: 100) { edges { node { tenantId action } } pageInfo { hasNextPage } } }`;
    type Page = { auditLogs: { edges: { node: { tenantId: string; action: string } }[] } };

    const ownA = await app.gql<Page>(QUERY, {}, bearer(tokenA));
    expect(ownA.body.data!.auditLogs.edges.length).toBeGreaterThan(0);
    expect(new Set(ownA.body.data!.auditLogs.edges.map((edge) => edge.node.tenantId))).toEqual(new Set([tree.clinicA]));
    // Asking for clinic B's rows by filter: nothing.
    const peek = await app.gql<Page>(QUERY, { t: tree.clinicB }, bearer(tokenA));
    expect(peek.body.data!.auditLogs.edges).toEqual([]);
    expect((await app.gql<Page>(QUERY, { t: tree.clinicB }, bearer(tokenB))).body.data!.auditLogs.edges.length).toBeGreaterThan(0);
    // Not an admin: FORBIDDEN naming the role.
    const member = await app.gql(QUERY, {}, bearer((await login(memberB.email)).accessToken));
    expect(member.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(member.body.errors?.[0]?.message).toMatch(/system_admin or admin/);
    const systemToken = (await login(system.email)).accessToken;
    for (const tenant of [tree.clinicA, tree.clinicB]) {
      expect((await app.gql<Page>(QUERY, { t: tenant }, bearer(systemToken))).body.data!.auditLogs.edges.length).toBeGreaterThan(0);
    }
  });
});
