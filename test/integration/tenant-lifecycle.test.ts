/**
 * Suspend, resume, maintenance, soft delete and restore, hard delete: over real HTTP, by system
 * admins and ancestors' admins only, visible to a second server process within a second, with
 * bad input refused by code and field; and the CLI commands as child processes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let other: TestApp;
let hierarchy: Hierarchy;
let foreign: Hierarchy;
let clinicA: ProvisionedTenant & { domain: string };
let clinicB: ProvisionedTenant & { domain: string };
const auth = {} as Record<'system' | 'group' | 'foreignGroup' | 'clinicA' | 'clinicB', Record<string, string>>;

const bearer = async (tenantId: string | null, roles: string[]) => ({ authorization: `Bearer ${await app.token({ subject: `u-${roles.join()}-${tenantId}`, tenantId, roles })}` });
const CREATE = 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }';
const PATIENTS = '{ patients { edges { node { mrn } } } }';
const code = (result: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => result.body.errors?.[0]?.extensions?.code;
const field = (result: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => result.body.errors?.[0]?.extensions?.field;

beforeAll(async () => {
  app = await startTestApp();
  other = await startTestApp(); // a second process-like server sharing the database and Redis
  hierarchy = await makeHierarchy(app.tenancy, 1);
  foreign = await makeHierarchy(app.tenancy, 1);
  clinicA = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
  clinicB = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  auth.system = await bearer(null, ['system_admin']);
  auth.group = await bearer(hierarchy.groups[0]!.id, ['admin']);
  auth.foreignGroup = await bearer(foreign.groups[0]!.id, ['admin']);
  auth.clinicA = await bearer(clinicA.id, ['admin']);
  auth.clinicB = await bearer(clinicB.id, ['admin']);
  for (const [clinic, who] of [[clinicA, auth.clinicA], [clinicB, auth.clinicB]] as const) {
    expect((await app.gql(CREATE, { input: { mrn: `m-${clinic.key}`, firstName: 'L', lastName: 'C' } }, who)).body.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await other?.stop();
  await app?.stop();
});

/** Polls `fn` until it returns true, for at most `ms`. */
async function within(ms: number, fn: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('suspend and resume', () => {
  it('lets only system admins and ancestors\' admins act, answering NOT_FOUND outside their subtree', async () => {
    const suspend = (id: string, who: Record<string, string>, reason = 'unpaid') =>
      app.gql('mutation($id: ID!, $reason: String!) { suspendTenant(id: $id, reason: $reason) { id status } }', { id, reason }, who);
    expect(code(await suspend(clinicA.id, {}))).toBe('UNAUTHENTICATED');
    expect(code(await suspend(clinicA.id, await bearer(clinicA.id, ['member'])))).toBe('FORBIDDEN');
    expect(code(await suspend(clinicA.id, auth.foreignGroup))).toBe('NOT_FOUND');
    expect(code(await suspend(clinicA.id, auth.clinicA))).toBe('NOT_FOUND'); // itself is not below itself
    expect(code(await suspend('not-a-uuid', auth.system))).toBe('NOT_FOUND');
    const empty = await suspend(clinicA.id, auth.group, '  ');
    expect([code(empty), field(empty)]).toEqual(['BAD_USER_INPUT', 'reason']);
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [clinicA.id])).rows[0].status).toBe('ACTIVE');
  });

  it('suspends for every process within a second, refuses a second suspend, and resumes', async () => {
    // Warm the other process's cache with the ACTIVE tenant.
    expect((await other.gql(PATIENTS, {}, auth.clinicA)).body.errors).toBeUndefined();
    const suspended = await app.gql<{ suspendTenant: { status: string } }>('mutation($id: ID!) { suspendTenant(id: $id, reason: "unpaid") { status } }', { id: clinicA.id }, auth.group);
    expect(suspended.body.data?.suspendTenant.status).toBe('SUSPENDED');
    const took = await within(1000, async () => code(await other.gql(CREATE, { input: { mrn: 'x', firstName: 'x', lastName: 'x' } }, auth.clinicA)) === 'TENANT_SUSPENDED');
    expect(took).toBeLessThan(1000);
    const again = await app.gql('mutation($id: ID!) { suspendTenant(id: $id, reason: "again") { status } }', { id: clinicA.id }, auth.system);
    expect([code(again), field(again)]).toEqual(['CONFLICT', 'status']);
    // The other clinic is untouched.
    expect((await app.gql(PATIENTS, {}, auth.clinicB)).body.errors).toBeUndefined();
    const resumed = await app.gql<{ resumeTenant: { status: string } }>('mutation($id: ID!) { resumeTenant(id: $id) { status } }', { id: clinicA.id }, auth.system);
    expect(resumed.body.data?.resumeTenant.status).toBe('ACTIVE');
    await within(1000, async () => (await other.gql(CREATE, { input: { mrn: 'after-resume', firstName: 'x', lastName: 'x' } }, auth.clinicA)).body.errors === undefined);
    const notSuspended = await app.gql('mutation($id: ID!) { resumeTenant(id: $id) { status } }', { id: clinicA.id }, auth.system);
    expect(code(notSuspended)).toBe('CONFLICT');
  });
});

describe('maintenance', () => {
  it('answers TENANT_MAINTENANCE with the message while down, and serves again when up', async () => {
    const down = await app.gql('mutation($id: ID!) { setTenantMaintenance(id: $id, enabled: true, message: "Upgrading until 10:00") { maintenance } }', { id: clinicB.id }, auth.group);
    expect(down.body.errors).toBeUndefined();
    const user = await bearer(clinicB.id, ['member']);
    await within(1000, async () => code(await other.gql(PATIENTS, {}, user)) === 'TENANT_MAINTENANCE');
    const up = await app.gql('mutation($id: ID!) { setTenantMaintenance(id: $id, enabled: false) { maintenance } }', { id: clinicB.id }, auth.group);
    expect(up.body.errors).toBeUndefined();
    await within(1000, async () => (await other.gql(PATIENTS, {}, auth.clinicB)).body.errors === undefined);
    const long = await app.gql('mutation($id: ID!, $m: String) { setTenantMaintenance(id: $id, enabled: true, message: $m) { maintenance } }', { id: clinicB.id, m: 'x'.repeat(501) }, auth.group);
    expect([code(long), field(long)]).toEqual(['BAD_USER_INPUT', 'message']);
  });
});

describe('delete and restore', () => {
  it('soft-deletes: unreachable, domain released, data kept; restore brings both back', async () => {
    const deleted = await app.gql<{ deleteTenant: { hard: boolean; restorableUntil: string } }>('mutation($id: ID!) { deleteTenant(id: $id) { hard restorableUntil } }', { id: clinicB.id }, auth.group);
    expect(deleted.body.data?.deleteTenant.hard).toBe(false);
    expect(new Date(deleted.body.data!.deleteTenant.restorableUntil).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    await within(1000, async () => code(await other.gql(PATIENTS, {}, { host: clinicB.domain })) === 'TENANT_NOT_FOUND');
    expect((await app.central.pool.query('SELECT 1 FROM domains WHERE domain = $1', [clinicB.domain])).rowCount).toBe(0);
    expect(code(await app.gql('mutation($id: ID!) { deleteTenant(id: $id) { hard } }', { id: clinicB.id }, auth.group))).toBe('CONFLICT');

    const restored = await app.gql<{ restoreTenant: { status: string } }>('mutation($id: ID!) { restoreTenant(id: $id) { status } }', { id: clinicB.id }, auth.group);
    expect(restored.body.data?.restoreTenant.status).toBe('ACTIVE');
    const read = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>(PATIENTS, {}, auth.clinicB);
    expect(read.body.data!.patients.edges.map((e) => e.node.mrn)).toEqual([`m-${clinicB.key}`]);
    expect((await app.central.pool.query('SELECT 1 FROM domains WHERE domain = $1 AND tenant_id = $2', [clinicB.domain, clinicB.id])).rowCount).toBe(1);
  });

  it('refuses a restore after the grace period and a delete of a parent with children', async () => {
    const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
    await app.gql('mutation($id: ID!) { deleteTenant(id: $id) { hard } }', { id: clinic.id }, auth.system);
    await app.central.pool.query("UPDATE tenants SET deleted_at = now() - interval '31 days' WHERE id = $1", [clinic.id]);
    const late = await app.gql('mutation($id: ID!) { restoreTenant(id: $id) { status } }', { id: clinic.id }, auth.system);
    expect([code(late), field(late)]).toEqual(['CONFLICT', 'deletedAt']);
    const parent = await app.gql('mutation($id: ID!) { deleteTenant(id: $id) { hard } }', { id: hierarchy.groups[0]!.id }, auth.system);
    expect([code(parent), field(parent)]).toEqual(['CONFLICT', 'id']);
    const hardParent = await app.gql('mutation($id: ID!, $c: String) { deleteTenant(id: $id, hard: true, confirm: $c) { hard } }', { id: hierarchy.groups[0]!.id, c: hierarchy.groups[0]!.slug }, auth.system);
    expect([code(hardParent), field(hardParent)]).toEqual(['CONFLICT', 'id']);
  });

  it('hard-deletes only with the slug as confirmation: storage, role, files and row of that tenant and nothing else', async () => {
    const victim = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [new Date().getUTCFullYear()] });
    const victimAuth = await bearer(victim.id, ['admin']);
    expect((await app.gql(CREATE, { input: { mrn: 'v', firstName: 'v', lastName: 'v' } }, victimAuth)).body.errors).toBeUndefined();
    await app.runtime.files.forTenant(victim.id).write('notes/a.txt', 'hello');
    const filesRoot = path.join(inject('storageDir'), 'tenants', victim.id);
    expect(existsSync(filesRoot)).toBe(true);
    const role = app.tenancy.naming.tenantRole(victim.key);

    const unconfirmed = await app.gql('mutation($id: ID!) { deleteTenant(id: $id, hard: true, confirm: "nope") { hard } }', { id: victim.id }, auth.group);
    expect([code(unconfirmed), field(unconfirmed)]).toEqual(['BAD_USER_INPUT', 'confirm']);
    const before = await app.central.pool.query('SELECT datname FROM pg_database ORDER BY 1');
    const gone = await app.gql<{ deleteTenant: { hard: boolean } }>('mutation($id: ID!, $c: String) { deleteTenant(id: $id, hard: true, confirm: $c) { hard } }', { id: victim.id, c: victim.slug }, auth.group);
    expect(gone.body.errors).toBeUndefined();
    const after = await app.central.pool.query('SELECT datname FROM pg_database ORDER BY 1');
    // (Other test files create and drop databases meanwhile: only this file's are compared.)
    const ours = (rows: { datname: string }[]) => rows.map((r) => r.datname).filter((name) => [victim.databaseName, clinicA.databaseName, clinicB.databaseName].includes(name));
    expect(ours(before.rows)).toContain(victim.databaseName);
    expect(ours(after.rows).sort()).toEqual(ours(before.rows).filter((name) => name !== victim.databaseName).sort());
    expect((await app.central.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount).toBe(0);
    expect((await app.central.pool.query('SELECT 1 FROM tenants WHERE id = $1', [victim.id])).rowCount).toBe(0);
    expect(existsSync(filesRoot)).toBe(false);
    await within(1000, async () => code(await other.gql(PATIENTS, {}, victimAuth)) !== undefined);
    // Neighbours keep their data.
    for (const who of [auth.clinicA, auth.clinicB]) expect((await app.gql<{ patients: { edges: unknown[] } }>(PATIENTS, {}, who)).body.data!.patients.edges.length).toBeGreaterThan(0);
  });
});

describe('the lifecycle CLI', () => {
  it('lists tenants with filters, as a table and as JSON', async () => {
    const json = await runCli(['tenants:list', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--json']);
    expect(json.code).toBe(0);
    const slugs = (JSON.parse(json.stdout).tenants as { slug: string }[]).map((t) => t.slug);
    expect(slugs).toEqual(expect.arrayContaining([clinicA.slug, clinicB.slug]));
    expect(slugs.every((s) => s !== hierarchy.groups[0]!.slug)).toBe(true);
    const table = await runCli(['tenants:list', '--parent', hierarchy.groups[0]!.slug]);
    expect(table.stdout).toContain(clinicA.slug);
    expect(table.stdout).toMatch(/│ slug/);
    expect((await runCli(['tenants:list', '--level', 'NOPE'])).code).toBe(2);
    expect((await runCli(['tenants:list', '--parent', 'no-such-parent-x'])).code).toBe(2);
  });

  it('suspends, resumes, takes down and up, and deletes with exit codes 0/1/2', async () => {
    const slug = clinicA.slug;
    expect((await runCli(['tenants:suspend', '--tenant', slug, '--reason', 'cli test'])).code).toBe(0);
    const twice = await runCli(['tenants:suspend', '--tenant', slug, '--reason', 'again', '--json']);
    expect(twice.code).toBe(1);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: false, code: 'CONFLICT', field: 'status' });
    expect((await runCli(['tenants:resume', '--tenant', slug])).code).toBe(0);
    expect((await runCli(['tenants:down', '--tenant', slug, '--message', 'back soon'])).code).toBe(0);
    expect((await app.central.pool.query('SELECT maintenance, maintenance_message FROM tenants WHERE id = $1', [clinicA.id])).rows[0]).toEqual({ maintenance: true, maintenance_message: 'back soon' });
    expect((await runCli(['tenants:up', '--tenant', slug])).code).toBe(0);
    expect((await runCli(['tenants:suspend', '--tenant', 'no-such-tenant-x', '--reason', 'r'])).code).toBe(2);
    expect((await runCli(['tenants:suspend', '--tenant', slug])).code).toBe(2); // --reason missing
    expect((await runCli(['tenants:delete', '--tenant', slug, '--hard', '--confirm', 'wrong'])).code).toBe(2);
    expect((await runCli(['tenants:delete', '--tenant', slug, '--confirm', slug])).code).toBe(2); // --confirm without --hard
    expect((await runCli(['tenants:delete', '--tenant', slug])).code).toBe(0);
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [clinicA.id])).rows[0].status).toBe('DELETED');
    expect((await runCli(['tenants:undelete', '--tenant', slug])).code).toBe(0);
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [clinicA.id])).rows[0].status).toBe('ACTIVE');
    // Eleven CLI processes, each starting the runtime (through tsx when dist/ is stale): ~25 s on a quiet machine with tsx, over 60 s on a loaded one.
  }, 150_000);
});
