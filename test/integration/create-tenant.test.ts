/**
 * createTenant over HTTP and `tenants:create` as a child process: who may create where, bad input
 * named by code and field, and a created tenant that serves requests at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { awaitProvisioning, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;
let foreign: Hierarchy;
const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug level isolation status parent { id } } }';
type Created = { createTenant: { id: string; slug: string; level: string; isolation: string | null; status: string; parent: { id: string } | null } };
const ext = (result: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => result.body.errors?.[0]?.extensions;
const bearer = async (tenantId: string | null, roles: string[]) => ({ authorization: `Bearer ${await app.token({ subject: `c-${roles.join()}`, tenantId, roles })}` });

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
  foreign = await makeHierarchy(app.tenancy, 1);
});
afterAll(() => app?.stop());

const clinicInput = (overrides: Record<string, unknown> = {}) => {
  const slug = uniqueKey('ct').replace(/_/g, '-');
  return { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: `Clinic ${slug}`, isolation: 'SCHEMA', domains: [`${slug}.test`], ...overrides };
};

describe('createTenant', () => {
  it("runs the plan's default seeders in the new tenant, and refuses an unknown plan", async () => {
    const planKey = uniqueKey('plan');
    await app.central.pool.query("INSERT INTO plans (key, name, seeders) VALUES ($1, 'Seeded plan', '[\"demo-patients\"]'::jsonb)", [planKey]);
    const input = clinicInput({ planKey });
    const created = await app.gql<Created>(CREATE, { input }, await bearer(null, ['system_admin']));
    expect(created.body.errors).toBeUndefined();
    const tenantId = created.body.data!.createTenant.id;
    expect((await awaitProvisioning(app.central.pool, tenantId)).status).toBe('ACTIVE');
    const patients = await app.runtime.scopes.runInTenant(tenantId, { kind: 'system', actor: 'test' }, (context) => context.db.tenant().patient.count());
    expect(patients).toBeGreaterThan(0);
    const planOf = await app.central.pool.query<{ key: string }>('SELECT p.key FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1', [tenantId]);
    expect(planOf.rows[0]?.key).toBe(planKey);

    const unknown = clinicInput({ planKey: 'no-such-plan' });
    const refused = await app.gql(CREATE, { input: unknown }, await bearer(null, ['system_admin']));
    expect(ext(refused)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'planKey' });
    expect((await app.central.pool.query('SELECT 1 FROM tenants WHERE slug = $1', [unknown.slug])).rowCount).toBe(0);
  });

  it("creates a tenant for an ancestor's admin: PROVISIONING at once, then ACTIVE and serving requests", async () => {
    const input = clinicInput();
    const created = await app.gql<Created>(CREATE, { input }, await bearer(hierarchy.app.id, ['admin']));
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createTenant).toMatchObject({ slug: input.slug, level: 'TENANT', isolation: 'SCHEMA', status: 'PROVISIONING', parent: { id: hierarchy.groups[0]!.id } });
    expect((await awaitProvisioning(app.central.pool, created.body.data!.createTenant.id)).status).toBe('ACTIVE');
    const token = await bearer(created.body.data!.createTenant.id, ['admin']);
    const patient = await app.gql('mutation { createPatient(input: { mrn: "first", firstName: "F", lastName: "L" }) { id } }', {}, { ...token, host: `${input.slug}.test` });
    expect(patient.body.errors).toBeUndefined();
  });

  it('lets a system admin create at any level', async () => {
    const key = uniqueKey('napp');
    const created = await app.gql<Created>(CREATE, { input: { level: 'APP', slug: key.replace(/_/g, '-'), name: 'New app' } }, await bearer(null, ['system_admin']));
    expect(created.body.data?.createTenant).toMatchObject({ level: 'APP', isolation: null, status: 'PROVISIONING', parent: null });
    expect((await awaitProvisioning(app.central.pool, created.body.data!.createTenant.id)).status).toBe('ACTIVE');
  });

  it('refuses callers outside the subtree and bad input, naming the field, creating nothing', async () => {
    // Only this file makes `ct-` slugs; other files create tenants in the same database meanwhile.
    const before = (await app.central.pool.query("SELECT count(*)::int AS n FROM tenants WHERE slug LIKE 'ct-%' OR slug = 'sneaky-app'")).rows[0].n;
    const system = await bearer(null, ['system_admin']);
    expect(ext(await app.gql(CREATE, { input: clinicInput() }))?.code).toBe('UNAUTHENTICATED');
    expect(ext(await app.gql(CREATE, { input: clinicInput() }, await bearer(hierarchy.groups[0]!.id, ['member'])))?.code).toBe('FORBIDDEN');
    expect(ext(await app.gql(CREATE, { input: clinicInput() }, await bearer(foreign.groups[0]!.id, ['admin'])))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentId' });
    expect(ext(await app.gql(CREATE, { input: { level: 'APP', slug: 'sneaky-app', name: 'x' } }, await bearer(hierarchy.app.id, ['admin'])))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentId' });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ level: 'CENTRAL' }, 'BAD_USER_INPUT', 'level'],
      [{ slug: 'Not A Slug' }, 'BAD_USER_INPUT', 'slug'],
      [{ key: 'Robert"); DROP' }, 'BAD_USER_INPUT', 'key'],
      [{ slug: '9-starts-with-digit' }, 'BAD_USER_INPUT', 'key'],
      [{ name: ' ' }, 'BAD_USER_INPUT', 'name'],
      [{ parentId: hierarchy.app.id }, 'BAD_USER_INPUT', 'parentId'],
      [{ domains: ['not a host'] }, 'BAD_USER_INPUT', 'domains'],
      [{ dbServer: 'no-such-server' }, 'BAD_USER_INPUT', 'dbServer'],
      [{ slug: hierarchy.groups[0]!.slug }, 'CONFLICT', 'slug'],
    ];
    for (const [overrides, code, field] of cases) {
      expect(ext(await app.gql(CREATE, { input: clinicInput(overrides) }, system))).toMatchObject({ code, field });
    }
    expect((await app.central.pool.query("SELECT count(*)::int AS n FROM tenants WHERE slug LIKE 'ct-%' OR slug = 'sneaky-app'")).rows[0].n).toBe(before);
  });
});

describe('tenants:create', () => {
  it('creates a tenant and reports it; bad usage exits 2, a conflict 1', async () => {
    const slug = uniqueKey('cli').replace(/_/g, '-');
    const made = await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', slug, '--name', 'CLI clinic', '--isolation', 'DATABASE', '--domain', `${slug}.test`, '--json']);
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ ok: true, tenant: { slug, level: 'TENANT', isolation: 'DATABASE', status: 'ACTIVE' } });
    const again = await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', slug, '--name', 'Again', '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, code: 'CONFLICT', field: 'slug' });
    expect((await runCli(['tenants:create', '--level', 'TENANT', '--slug', 'x-y', '--name', 'n', '--isolation', 'FILES'])).code).toBe(2);
    expect((await runCli(['tenants:create', '--level', 'TENANT', '--parent', 'no-such-parent-q', '--slug', 'x-y', '--name', 'n'])).code).toBe(2);
    expect((await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', 'Bad Slug', '--name', 'n'])).code).toBe(2);
  });
});

describe('tenants:create following the job, and tenants:retry', () => {
  it('prints each step; a failed step exits 1 with the steps in --json; tenants:retry exits 0 once ACTIVE; --no-wait answers PROVISIONING', async () => {
    const planKey = uniqueKey('cliplan');
    await app.central.pool.query("INSERT INTO plans (key, name, seeders) VALUES ($1, 'Broken', '[\"no-such-seeder\"]'::jsonb)", [planKey]);
    const slug = uniqueKey('clif').replace(/_/g, '-');
    const failed = await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', slug, '--name', 'Fails', '--isolation', 'SCHEMA', '--plan', planKey, '--json']);
    expect(failed.code).toBe(1);
    const report = JSON.parse(failed.stdout);
    expect(report).toMatchObject({ ok: false, tenant: { slug, status: 'FAILED', provisioning: { status: 'FAILED', attempt: 1 } } });
    expect(report.tenant.provisioning.steps.find((step: { name: string }) => step.name === 'seeders')).toMatchObject({ status: 'FAILED' });

    await app.central.pool.query("UPDATE plans SET seeders = '[]'::jsonb WHERE key = $1", [planKey]);
    const retried = await runCli(['tenants:retry', '--tenant', slug]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/✔ storage/);
    expect(retried.stdout).toMatch(/✔ activate/);
    expect(retried.stdout).toContain(`TENANT ${slug}`);
    expect(retried.stdout).toMatch(/ACTIVE after attempt 2/);
    expect((await runCli(['tenants:retry', '--tenant', slug])).code).toBe(1); // ACTIVE: nothing to retry (CONFLICT)

    const later = uniqueKey('clinw').replace(/_/g, '-');
    const queued = await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', later, '--name', 'Later', '--timezone', 'Asia/Tokyo', '--no-wait', '--json']);
    expect(queued.code).toBe(0);
    const tenant = JSON.parse(queued.stdout).tenant;
    expect(tenant).toMatchObject({ slug: later, timezone: 'Asia/Tokyo' });
    // The CLI returned at once; this file's server (WORKER on) runs the job.
    expect((await awaitProvisioning(app.central.pool, tenant.id)).status).toBe('ACTIVE');
    expect((await runCli(['tenants:create', '--level', 'TENANT', '--parent', hierarchy.groups[0]!.slug, '--slug', 'tz-bad', '--name', 'n', '--timezone', 'Nowhere/Nothing'])).code).toBe(2);
  });
});

