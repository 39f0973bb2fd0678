import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, PASSWORD, type TenantTree } from '../helpers/auth.js';

const INVITE = `mutation ($t: ID!, $e: String!, $r: String!, $a: [String!]!) { inviteMember(tenantId: $t, email: $e, role: $r, abilities: $a) { member { id email role abilities tenantId } } }`;
const MEMBERS = `query ($t: ID!) { members(tenantId: $t) { id email role abilities } }`;
type Invited = { inviteMember: { member: { id: string; email: string; role: string; abilities: string[] } } };

let app: TestApp;
let tree: TenantTree;
let groupAdmin: string;
let otherGroupAdmin: string;

async function login(email: string): Promise<string> {
  return (await app.gql<{ login: { accessToken: string } }>(LOGIN, { email, password: PASSWORD })).body.data!.login.accessToken;
}

beforeAll(async () => {
  app = await startTestApp({}, { auth: AUTH_TEST_OPTIONS });
  tree = await makeTenantTree(app.central.pool);
  groupAdmin = await login((await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.groupA, role: 'admin' }] })).email);
  otherGroupAdmin = await login((await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.groupB, role: 'admin' }] })).email);
});
afterAll(() => app?.stop());

describe('members', () => {
  it('an admin invites, lists, updates and removes members within its subtree', async () => {
    const email = `staff-${Date.now()}@example.test`;
    const invited = await app.gql<Invited>(INVITE, { t: tree.clinicA, e: email, r: 'member', a: ['patients:read', 'visits:*'] }, bearer(groupAdmin));
    expect(invited.body.errors).toBeUndefined();
    const id = invited.body.data!.inviteMember.member.id;
    const listed = await app.gql<{ members: { id: string; email: string }[] }>(MEMBERS, { t: tree.clinicA }, bearer(groupAdmin));
    expect(listed.body.data!.members.map((member) => member.email)).toContain(email);
    const updated = await app.gql(`mutation ($id: ID!) { updateMember(id: $id, role: "admin") { role abilities } }`, { id }, bearer(groupAdmin));
    expect(updated.body.data).toEqual({ updateMember: { role: 'admin', abilities: ['patients:read', 'visits:*'] } });
    expect((await app.gql(`mutation ($id: ID!) { removeMember(id: $id) }`, { id }, bearer(groupAdmin))).body.data).toEqual({ removeMember: true });
    expect((await app.central.pool.query('SELECT 1 FROM memberships WHERE id = $1', [id])).rowCount).toBe(0);
  });

  it('refuses unknown roles and abilities, and changes nothing', async () => {
    const email = `nurse-${Date.now()}@example.test`;
    const nurse = await app.gql(INVITE, { t: tree.clinicA, e: email, r: 'nurse', a: [] }, bearer(groupAdmin));
    expect(nurse.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(nurse.body.errors?.[0]?.message).toMatch(/Unknown role "nurse"/);
    const ability = await app.gql(INVITE, { t: tree.clinicA, e: email, r: 'member', a: ['patients:delete'] }, bearer(groupAdmin));
    expect(ability.body.errors?.[0]?.message).toMatch(/Unknown ability "patients:delete"/);
    expect((await app.central.pool.query('SELECT 1 FROM accounts WHERE email = $1', [email])).rowCount).toBe(0);
  });

  it('an admin of another branch may neither list nor change them', async () => {
    const invited = await app.gql<Invited>(INVITE, { t: tree.clinicA, e: `x-${Date.now()}@example.test`, r: 'member', a: [] }, bearer(groupAdmin));
    const id = invited.body.data!.inviteMember.member.id;
    for (const [query, variables] of [
      [MEMBERS, { t: tree.clinicA }],
      [INVITE, { t: tree.clinicA, e: `y-${Date.now()}@example.test`, r: 'admin', a: [] }],
      [`mutation ($id: ID!) { updateMember(id: $id, role: "admin") { id } }`, { id }],
      [`mutation ($id: ID!) { removeMember(id: $id) }`, { id }],
    ] as const) {
      const result = await app.gql(query, variables, bearer(otherGroupAdmin));
      expect(result.body.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
    }
    expect((await app.central.pool.query('SELECT role FROM memberships WHERE id = $1', [id])).rows[0].role).toBe('member');
  });
});
