/**
 * Invitations over real HTTP against real PostgreSQL: invite → accept → signed in → the tenant
 * answers; expired, reused, forged, revoked and other-tenant tokens; concurrent accepts; admins of
 * another branch; createTenant's first admin; the token in no log line and no later answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logCapture, startTestApp, uniqueKey, type GqlResult, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, PASSWORD } from '../helpers/auth.js';
import { runCli } from '../helpers/cli.js';
import { awaitProvisioning, makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

const INVITE = /* GraphQL */ `
  mutation ($t: ID!, $e: String!, $r: String!, $a: [String!]! = []) {
    inviteMember(tenantId: $t, email: $e, role: $r, abilities: $a) { member { id email role tenantId invitationExpiresAt } invitation { email token url expiresAt } }
  }
`;
const ACCEPT = /* GraphQL */ `
  mutation ($token: String!, $password: String!, $name: String) { acceptInvitation(token: $token, password: $password, name: $name) { accessToken expiresAt refreshToken } }
`;
const RESEND = `mutation ($id: ID!) { resendInvitation(membershipId: $id) { member { id invitationExpiresAt } invitation { token expiresAt } } }`;
const MEMBERS = `query ($t: ID!) { members(tenantId: $t) { id email invitationExpiresAt } }`;
const NEW_PASSWORD = 'a long new password 4 invitee';

type Invitation = { email: string; token: string; url: string | null; expiresAt: string };
type Invited = { inviteMember: { member: { id: string; email: string; role: string; tenantId: string; invitationExpiresAt: string | null }; invitation: Invitation | null } };
type Accepted = { acceptInvitation: { accessToken: string; expiresAt: string; refreshToken: string } };

const capture = logCapture('trace');
let app: TestApp;
let hierarchy: Hierarchy;
let clinicA: Awaited<ReturnType<typeof makeClinic>>;
let clinicB: Awaited<ReturnType<typeof makeClinic>>;
let adminA: string;
let adminB: string;
/** Every token this file was shown: none may appear in a log line or a later answer. */
const shown: string[] = [];

const code = (result: GqlResult<unknown>) => result.body.errors?.[0]?.extensions?.code;
const email = (name: string) => `${name}-${uniqueKey('i')}@example.test`;

async function login(address: string, password = PASSWORD, tenant?: string): Promise<string> {
  const result = await app.gql<{ login: { accessToken: string } }>(LOGIN, { email: address, password, tenant });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!.login.accessToken;
}

async function invite(tenantId: string, address: string, as = adminA, role = 'member', abilities: string[] = []): Promise<Invited['inviteMember']> {
  const result = await app.gql<Invited>(INVITE, { t: tenantId, e: address, r: role, a: abilities }, bearer(as));
  expect(result.body.errors).toBeUndefined();
  const invited = result.body.data!.inviteMember;
  if (invited.invitation) shown.push(invited.invitation.token);
  return invited;
}

beforeAll(async () => {
  app = await startTestApp({ INVITATION_URL: 'https://app.example.test/invite' }, { auth: AUTH_TEST_OPTIONS, logger: capture.logger });
  hierarchy = await makeHierarchy(app.tenancy, 2);
  clinicA = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { prefix: 'inva' });
  clinicB = await makeClinic(app.tenancy, hierarchy.groups[1]!, 'SCHEMA', { prefix: 'invb' });
  adminA = await login((await makeAccount(app.central.pool, { memberships: [{ tenantId: hierarchy.groups[0]!.id, role: 'admin' }] })).email);
  adminB = await login((await makeAccount(app.central.pool, { memberships: [{ tenantId: hierarchy.groups[1]!.id, role: 'admin' }] })).email);
}, 120_000);
afterAll(() => app?.stop());

describe('invitations', () => {
  it('invite → accept: the password is set, the person is signed in and its tenant answers', async () => {
    const address = email('nurse');
    const before = Date.now();
    const invited = await invite(clinicA.id, address, adminA, 'member', ['patients:read']);
    const invitation = invited.invitation!;
    expect(invitation.token).toMatch(/^inv_[A-Za-z0-9_-]{43}$/);
    expect(invitation.url).toBe(`https://app.example.test/invite#token=${invitation.token}`);
    // INVITATION_TTL_HOURS defaults to 72.
    const ttl = new Date(invitation.expiresAt).getTime() - before;
    expect(ttl).toBeGreaterThan(72 * 3600_000 - 60_000);
    expect(ttl).toBeLessThan(72 * 3600_000 + 60_000);
    expect(invited.member.invitationExpiresAt).toBe(invitation.expiresAt);
    // Only the hash is stored.
    const stored = await app.central.pool.query<{ token_hash: string }>('SELECT token_hash FROM invitations WHERE email = $1', [address]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]!.token_hash).not.toContain(invitation.token.slice(4));
    // Before accepting there is no way in: no password.
    expect(code(await app.gql(LOGIN, { email: address, password: NEW_PASSWORD }))).toBe('UNAUTHENTICATED');

    const accepted = await app.gql<Accepted>(ACCEPT, { token: invitation.token, password: NEW_PASSWORD, name: '  Nora Nurse ' });
    expect(accepted.body.errors).toBeUndefined();
    const session = accepted.body.data!.acceptInvitation;
    expect(session.refreshToken).toMatch(/^rt_/);
    const me = await app.gql<{ me: { subject: string; tenantId: string; roles: string[] } }>('{ me { subject tenantId roles } }', {}, bearer(session.accessToken));
    expect(me.body.data!.me).toMatchObject({ tenantId: clinicA.id, roles: ['member'] });
    const patients = await app.gql<{ patients: { edges: unknown[] } }>('{ currentTenant { tenant { slug } } patients { edges { node { id } } } }', {}, { ...bearer(session.accessToken), host: clinicA.domain });
    expect(patients.body.errors).toBeUndefined();
    expect(patients.body.data).toMatchObject({ currentTenant: { tenant: { slug: clinicA.slug } } });
    // The same answer shape as login: the refresh token rotates, the password signs in from now on.
    expect((await app.gql(`mutation ($t: String!) { refreshToken(token: $t) { accessToken } }`, { t: session.refreshToken })).body.errors).toBeUndefined();
    await login(address, NEW_PASSWORD);
    const account = await app.central.pool.query<{ name: string }>('SELECT name FROM accounts WHERE email = $1', [address]);
    expect(account.rows[0]!.name).toBe('Nora Nurse');
    // Nothing pending any more.
    const listed = await app.gql<{ members: { email: string; invitationExpiresAt: string | null }[] }>(MEMBERS, { t: clinicA.id }, bearer(adminA));
    expect(listed.body.data!.members.find((member) => member.email === address)!.invitationExpiresAt).toBeNull();
    // The invited tenant only: clinic B answers FORBIDDEN/mismatch, switchTenant refuses.
    const elsewhere = await app.gql('{ patients { edges { node { id } } } }', {}, { ...bearer(session.accessToken), host: clinicB.domain });
    expect(['TENANT_MISMATCH', 'FORBIDDEN']).toContain(code(elsewhere));
    expect(code(await app.gql(`mutation ($t: String!) { switchTenant(tenant: $t) { accessToken } }`, { t: clinicB.slug }, bearer(session.accessToken)))).toBe('FORBIDDEN');
  });

  it('a used, expired, forged or malformed token is refused with its code and changes nothing', async () => {
    const used = (await invite(clinicA.id, email('used'))).invitation!;
    expect((await app.gql(ACCEPT, { token: used.token, password: NEW_PASSWORD })).body.errors).toBeUndefined();
    const again = await app.gql(ACCEPT, { token: used.token, password: 'another password entirely' });
    expect(code(again)).toBe('INVITATION_USED');
    expect(again.status).toBe(410);
    await login(used.email, NEW_PASSWORD); // the first password stands

    const expiredAddress = email('late');
    const expired = (await invite(clinicA.id, expiredAddress)).invitation!;
    await app.central.pool.query("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = $1", [expiredAddress]);
    expect(code(await app.gql(ACCEPT, { token: expired.token, password: NEW_PASSWORD }))).toBe('INVITATION_EXPIRED');

    const forged = `inv_${'A'.repeat(43)}`;
    const forgedAnswer = await app.gql(ACCEPT, { token: forged, password: NEW_PASSWORD });
    expect(code(forgedAnswer)).toBe('INVITATION_INVALID');
    expect(forgedAnswer.body.errors?.[0]?.extensions?.field).toBe('token');
    expect(code(await app.gql(ACCEPT, { token: 'not a token', password: NEW_PASSWORD }))).toBe('INVITATION_INVALID');
    expect(code(await app.gql(ACCEPT, { token: `${expired.token.slice(0, -1)}x`, password: NEW_PASSWORD }))).toBe('INVITATION_INVALID');

    // A weak password with a good token: BAD_USER_INPUT, and the token still works afterwards.
    const weak = (await invite(clinicA.id, email('weak'))).invitation!;
    const short = await app.gql(ACCEPT, { token: weak.token, password: 'short' });
    expect(short.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    expect((await app.gql(ACCEPT, { token: weak.token, password: NEW_PASSWORD })).body.errors).toBeUndefined();

    const rows = await app.central.pool.query<{ password_hash: string | null }>('SELECT password_hash FROM accounts WHERE email = $1', [expiredAddress]);
    expect(rows.rows[0]!.password_hash).toBeNull();
  });

  it('two concurrent accepts of one token: exactly one signs in', async () => {
    const invitation = (await invite(clinicA.id, email('race'))).invitation!;
    const answers = await Promise.all([
      app.gql<Accepted>(ACCEPT, { token: invitation.token, password: 'first racer password' }),
      app.gql<Accepted>(ACCEPT, { token: invitation.token, password: 'second racer password' }),
    ]);
    const won = answers.filter((answer) => !answer.body.errors);
    expect(won).toHaveLength(1);
    expect(answers.map(code).filter(Boolean)).toEqual(['INVITATION_USED']);
    const winner = answers.indexOf(won[0]!) === 0 ? 'first racer password' : 'second racer password';
    await login(invitation.email, winner);
  });

  it('resendInvitation replaces the token; removing the member or setting a password voids pending ones', async () => {
    const address = email('resend');
    const invited = await invite(clinicA.id, address);
    const resent = await app.gql<{ resendInvitation: { member: { id: string; invitationExpiresAt: string }; invitation: { token: string } } }>(
      RESEND,
      { id: invited.member.id },
      bearer(adminA),
    );
    expect(resent.body.errors).toBeUndefined();
    const fresh = resent.body.data!.resendInvitation.invitation.token;
    shown.push(fresh);
    expect(fresh).not.toBe(invited.invitation!.token);
    expect(code(await app.gql(ACCEPT, { token: invited.invitation!.token, password: NEW_PASSWORD }))).toBe('INVITATION_REVOKED');

    // Removed: the pending token is void.
    expect((await app.gql(`mutation ($id: ID!) { removeMember(id: $id) }`, { id: invited.member.id }, bearer(adminA))).body.errors).toBeUndefined();
    expect(code(await app.gql(ACCEPT, { token: fresh, password: NEW_PASSWORD }))).toBe('INVITATION_REVOKED');

    // Invited to two clinics; accepting one sets the password, which voids the other (sign in instead).
    const twice = email('twice');
    const clinicA2 = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { prefix: 'inva2' });
    const first = (await invite(clinicA.id, twice)).invitation!;
    const second = (await invite(clinicA2.id, twice)).invitation!;
    expect((await app.gql(ACCEPT, { token: first.token, password: NEW_PASSWORD })).body.errors).toBeUndefined();
    expect(code(await app.gql(ACCEPT, { token: second.token, password: 'a takeover attempt pw' }))).toBe('INVITATION_REVOKED');
    const switched = await app.gql(`mutation ($t: String!) { switchTenant(tenant: $t) { accessToken } }`, { t: clinicA2.slug }, bearer(await login(twice, NEW_PASSWORD, clinicA.slug)));
    expect(switched.body.errors).toBeUndefined();

    // An account that already has a password gets no invitation (it signs in), and nothing to resend.
    const existing = await makeAccount(app.central.pool);
    const added = await invite(clinicA.id, existing.email);
    expect(added.invitation).toBeNull();
    expect(code(await app.gql(RESEND, { id: added.member.id }, bearer(adminA)))).toBe('CONFLICT');
  });

  it("an admin of another branch can neither resend nor read clinic A's invitations, and a member cannot either", async () => {
    const invited = await invite(clinicA.id, email('private'));
    expect(code(await app.gql(RESEND, { id: invited.member.id }, bearer(adminB)))).toBe('FORBIDDEN');
    expect(code(await app.gql(MEMBERS, { t: clinicA.id }, bearer(adminB)))).toBe('FORBIDDEN');
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: clinicA.id, role: 'member' }] });
    expect(code(await app.gql(RESEND, { id: invited.member.id }, bearer(await login(member.email))))).toBe('FORBIDDEN');
    expect(code(await app.gql(RESEND, { id: '00000000-0000-4000-8000-000000000000' }, bearer(adminA)))).toBe('NOT_FOUND');
    expect(code(await app.gql(RESEND, { id: 'not-a-uuid' }, bearer(adminA)))).toBe('NOT_FOUND');
    // Clinic B's admin invites into its own clinic; the token signs in to clinic B only.
    const theirs = (await invite(clinicB.id, email('bee'), adminB)).invitation!;
    const session = (await app.gql<Accepted>(ACCEPT, { token: theirs.token, password: NEW_PASSWORD })).body.data!.acceptInvitation;
    const me = await app.gql<{ me: { tenantId: string } }>('{ me { tenantId } }', {}, bearer(session.accessToken));
    expect(me.body.data!.me.tenantId).toBe(clinicB.id);
    // The invitation was still valid the whole time: clinic A's resend above did not touch it.
    const unchanged = await app.gql(RESEND, { id: invited.member.id }, bearer(adminA));
    expect(unchanged.body.errors).toBeUndefined();
    shown.push((unchanged.body.data as { resendInvitation: { invitation: { token: string } } }).resendInvitation.invitation.token);
  });

  it("createTenant's first admin gets the token once, in the answer, and signs in with it once the tenant is ACTIVE", async () => {
    const slug = uniqueKey('invct').replace(/_/g, '-');
    const admin = email('founder');
    const system = bearer(await app.token({ subject: 'founder-test', tenantId: null, roles: ['system_admin'] }));
    const created = await app.gql<{ createTenant: { id: string; firstAdminInvitation: Invitation | null } }>(
      'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { id status firstAdminInvitation { email token url expiresAt } } }',
      { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Founded', isolation: 'SCHEMA', domains: [`${slug}.test`], admin: { email: admin, name: 'Fay Founder' } } },
      system,
    );
    expect(created.body.errors).toBeUndefined();
    const { id, firstAdminInvitation } = created.body.data!.createTenant;
    expect(firstAdminInvitation).toMatchObject({ email: admin });
    shown.push(firstAdminInvitation!.token);
    expect((await awaitProvisioning(app.central.pool, id)).status).toBe('ACTIVE');
    // Read again, the field is null: the server cannot show it twice.
    const reread = await app.gql<{ tenant: { firstAdminInvitation: unknown } }>('query ($id: ID!) { tenant(id: $id) { firstAdminInvitation { token } } }', { id }, system);
    expect(reread.body.errors).toBeUndefined();
    expect(reread.body.data!.tenant.firstAdminInvitation).toBeNull();

    const accepted = await app.gql<Accepted>(ACCEPT, { token: firstAdminInvitation!.token, password: NEW_PASSWORD });
    expect(accepted.body.errors).toBeUndefined();
    const token = accepted.body.data!.acceptInvitation.accessToken;
    const me = await app.gql<{ me: { tenantId: string; roles: string[] } }>('{ me { tenantId roles } }', {}, bearer(token));
    expect(me.body.data!.me).toEqual({ tenantId: id, roles: ['admin'] });
    const patient = await app.gql('mutation { createPatient(input: { mrn: "founder-1", firstName: "F", lastName: "L" }) { id } }', {}, { ...bearer(token), host: `${slug}.test` });
    expect(patient.body.errors).toBeUndefined();
    // An existing account with a password gets no token: it signs in and switches.
    const veteran = await makeAccount(app.central.pool);
    const slug2 = uniqueKey('invct').replace(/_/g, '-');
    const second = await app.gql<{ createTenant: { id: string; firstAdminInvitation: Invitation | null } }>(
      'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { id firstAdminInvitation { token } } }',
      { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug: slug2, name: 'Second', isolation: 'SCHEMA', admin: { email: veteran.email } } },
      system,
    );
    expect(second.body.data!.createTenant.firstAdminInvitation).toBeNull();
    await awaitProvisioning(app.central.pool, second.body.data!.createTenant.id);
  });

  it('tenantgraph members:invite --json prints the link once; the person accepts it', async () => {
    const address = email('cli');
    const result = await runCli(['members:invite', '--tenant', clinicA.slug, '--email', address, '--role', 'admin', '--json'], {
      INVITATION_URL: 'https://app.example.test/invite',
    });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { ok: boolean; member: { email: string; role: string }; invitation: Invitation };
    expect(out).toMatchObject({ ok: true, member: { email: address, role: 'admin' }, invitation: { email: address } });
    expect(out.invitation.url).toBe(`https://app.example.test/invite#token=${out.invitation.token}`);
    shown.push(out.invitation.token);
    expect(result.stderr).not.toContain(out.invitation.token);
    const session = (await app.gql<Accepted>(ACCEPT, { token: out.invitation.token, password: NEW_PASSWORD })).body.data!.acceptInvitation;
    const me = await app.gql<{ me: { tenantId: string; roles: string[] } }>('{ me { tenantId roles } }', {}, bearer(session.accessToken));
    expect(me.body.data!.me).toEqual({ tenantId: clinicA.id, roles: ['admin'] });

    // tenants:create --admin-email --json: the first admin's invitation is in the one JSON object, and only there.
    const slug = uniqueKey('invcli').replace(/_/g, '-');
    const founder = email('clifounder');
    const made = await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', slug, '--name', 'Cli', '--isolation', 'SCHEMA', '--admin-email', founder, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const createdOut = JSON.parse(made.stdout) as { ok: boolean; tenant: { id: string; status: string }; firstAdminInvitation: Invitation };
    expect(createdOut).toMatchObject({ ok: true, tenant: { status: 'ACTIVE' }, firstAdminInvitation: { email: founder } });
    shown.push(createdOut.firstAdminInvitation.token);
    expect(made.stderr).not.toContain(createdOut.firstAdminInvitation.token);
    const founderSession = await app.gql<Accepted>(ACCEPT, { token: createdOut.firstAdminInvitation.token, password: NEW_PASSWORD });
    expect(founderSession.body.errors).toBeUndefined();

    const unknown = await runCli(['members:invite', '--tenant', 'no-such-tenant', '--email', email('x'), '--json']);
    expect(unknown.code).toBe(2);
    const bad = await runCli(['members:invite', '--tenant', clinicA.slug, '--email', 'not-an-email', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('no token shown above is in any log line, audit row, or later answer', async () => {
    expect(shown.length).toBeGreaterThan(8);
    const logs = capture.lines.join('\n');
    expect(capture.lines.length).toBeGreaterThan(0);
    const central = await app.central.pool.query<{ text: string }>(
      `SELECT (SELECT coalesce(string_agg(row_to_json(a)::text, ''), '') FROM audit_logs a)
           || (SELECT coalesce(string_agg(row_to_json(i)::text, ''), '') FROM invitations i)
           || (SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') FROM provisioning_runs r) AS text`,
    );
    const system = bearer(await app.token({ subject: 'reader-test', tenantId: null, roles: ['system_admin'] }));
    const answers = JSON.stringify([
      (await app.gql(MEMBERS, { t: clinicA.id }, bearer(adminA))).body,
      (await app.gql('{ auditLogs(first: 100) { edges { node { action details } } } }', {}, system)).body,
      (await app.gql('{ tenants(first: 100) { edges { node { slug firstAdminInvitation { token } } } } }', {}, system)).body,
    ]);
    for (const token of shown) {
      expect(logs.includes(token), 'a log line').toBe(false);
      expect(central.rows[0]!.text.includes(token), 'a central row').toBe(false);
      expect(answers.includes(token), 'a later answer').toBe(false);
    }
  });
});

describe('acceptInvitation guesses', () => {
  it('are throttled per client address as failed sign-ins are (LOGIN_MAX_FAILURES), even for a valid token then', async () => {
    const throttled = await startTestApp({ LOGIN_MAX_FAILURES: '3' }, { auth: AUTH_TEST_OPTIONS });
    try {
      const admin = await makeAccount(throttled.central.pool, { memberships: [{ tenantId: hierarchy.groups[0]!.id, role: 'admin' }] });
      const adminToken = (await throttled.gql<{ login: { accessToken: string } }>(LOGIN, { email: admin.email, password: PASSWORD })).body.data!.login.accessToken;
      const invited = await throttled.gql<Invited>(INVITE, { t: clinicA.id, e: email('guess'), r: 'member' }, bearer(adminToken));
      const token = invited.body.data!.inviteMember.invitation!.token;
      for (let i = 0; i < 3; i++) expect(code(await throttled.gql(ACCEPT, { token: `inv_${uniqueKey('g').padEnd(43, 'x')}`, password: NEW_PASSWORD }))).toBe('INVITATION_INVALID');
      const locked = await throttled.gql(ACCEPT, { token, password: NEW_PASSWORD });
      expect(code(locked)).toBe('RATE_LIMITED');
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Nothing changed: the invitation is still pending.
      const pending = await throttled.central.pool.query('SELECT 1 FROM invitations WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL', [
        invited.body.data!.inviteMember.member.email,
      ]);
      expect(pending.rowCount).toBe(1);
    } finally {
      await throttled.stop();
    }
  });
});
