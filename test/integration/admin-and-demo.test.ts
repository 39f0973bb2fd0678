/**
 * Admin queries (tenants, tenant, currentTenant, me) and the demo data a first start creates,
 * on a central database of their own (demo data needs an empty tenants table).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { uniqueName } from '../helpers/database.js';

const centralName = uniqueName('tg_demo');
const centralUrl = (() => {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${centralName}`;
  return url.toString();
})();
const admin = new pg.Pool({ connectionString: inject('adminDatabaseUrl'), max: 1 });
let app: TestApp;

type TenantsPage = { tenants: { edges: { node: { slug: string; level: string; isolation: string | null; parent: { slug: string } | null; domains: { domain: string; isPrimary: boolean }[] } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
const TENANTS = `query($first: Int, $after: String, $filter: TenantFilter) { tenants(first: $first, after: $after, filter: $filter) {
  edges { node { slug level isolation status parent { slug } domains { domain isPrimary } } } pageInfo { hasNextPage endCursor } } }`;

beforeAll(async () => {
  app = await startTestApp({ DATABASE_URL: centralUrl, DEMO_DATA: 'true' });
});
afterAll(async () => {
  await app?.stop();
  await admin.query(`DROP DATABASE IF EXISTS "${centralName}" WITH (FORCE)`);
  await admin.end();
});

const tokenFor = async (slug: string | null, roles: string[]) => {
  const tenantId = slug ? (await app.tenancy.central.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0]!.id : null;
  return { authorization: `Bearer ${await app.token({ subject: `t-${slug}`, tenantId, roles })}` };
};

describe('demo data', () => {
  it('creates the demo hierarchy with a clinic in each isolation mode, reachable by domain', async () => {
    const sysadmin = await tokenFor(null, ['system_admin']);
    const { body } = await app.gql<TenantsPage>(TENANTS, { first: 10 }, sysadmin);
    expect(body.errors).toBeUndefined();
    expect(body.data!.tenants.edges.map((e) => [e.node.slug, e.node.level, e.node.isolation, e.node.parent?.slug ?? null])).toEqual([
      ['demo-app', 'APP', null, null],
      ['demo-clinic-a', 'TENANT', 'DATABASE', 'demo-group'],
      ['demo-clinic-b', 'TENANT', 'SCHEMA', 'demo-group'],
      ['demo-group', 'CENTRAL_TENANT', null, 'demo-app'],
    ]);
    const clinicB = body.data!.tenants.edges.find((e) => e.node.slug === 'demo-clinic-b')!;
    expect(clinicB.node.domains).toEqual([{ domain: 'clinic-b.localhost', isPrimary: true }]);

    const member = await tokenFor('demo-clinic-b', ['admin']);
    const patients = await app.gql<{ currentTenant: { tenant: { slug: string } }; patients: { edges: { node: { lastName: string; visits: { practitioner: { name: string } }[]; invoices: { lines: { catalogItem: { code: string } }[] }[] } }[] } }>(
      '{ currentTenant { tenant { slug } } patients { edges { node { lastName visits { practitioner { name } } invoices { lines { catalogItem { code } } } } } } }',
      {},
      { ...member, host: 'clinic-b.localhost' },
    );
    expect(patients.body.errors).toBeUndefined();
    expect(patients.body.data!.currentTenant.tenant.slug).toBe('demo-clinic-b');
    expect(patients.body.data!.patients.edges).toHaveLength(5);
    expect(patients.body.data!.patients.edges.every((e) => e.node.lastName.endsWith('(B)') && e.node.visits[0]!.practitioner.name && e.node.invoices[0]!.lines[0]!.catalogItem.code)).toBe(true);
  });

  it('is not created twice', async () => {
    const again = await startTestApp({ DATABASE_URL: centralUrl, DEMO_DATA: 'true' });
    await again.stop();
    const count = await app.tenancy.central.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants');
    expect(count.rows[0]!.n).toBe(4);
  });
});

describe('admin queries', () => {
  it('pages tenants by slug and filters by level', async () => {
    const sysadmin = await tokenFor(null, ['system_admin']);
    const first = await app.gql<TenantsPage>(TENANTS, { first: 2 }, sysadmin);
    expect(first.body.data!.tenants.pageInfo.hasNextPage).toBe(true);
    const second = await app.gql<TenantsPage>(TENANTS, { first: 2, after: first.body.data!.tenants.pageInfo.endCursor }, sysadmin);
    expect(second.body.data!.tenants.edges.map((e) => e.node.slug)).toEqual(['demo-clinic-b', 'demo-group']);
    const clinicsOnly = await app.gql<TenantsPage>(TENANTS, { filter: { level: 'TENANT' } }, sysadmin);
    expect(clinicsOnly.body.data!.tenants.edges.map((e) => e.node.slug)).toEqual(['demo-clinic-a', 'demo-clinic-b']);
  });

  it("shows a group admin its own subtree only, and refuses a clinic's staff", async () => {
    const groupAdmin = await tokenFor('demo-group', ['admin']);
    const { body } = await app.gql<TenantsPage>(TENANTS, {}, groupAdmin);
    expect(body.data!.tenants.edges.map((e) => e.node.slug)).toEqual(['demo-clinic-a', 'demo-clinic-b', 'demo-group']);
    const appNode = await app.gql('query { tenant(slug: "demo-app") { slug } }', {}, groupAdmin);
    expect(appNode.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const staff = await tokenFor('demo-clinic-a', ['staff']);
    const refused = await app.gql(TENANTS, {}, staff);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await app.gql(TENANTS, {});
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('tells a request where it stands (currentTenant, me)', async () => {
    const central = await app.gql<{ currentTenant: { level: string; tenant: null }; me: { authenticated: boolean } }>('{ currentTenant { level tenant { slug } } me { authenticated } }', {});
    expect(central.body.data).toEqual({ currentTenant: { level: 'CENTRAL', tenant: null }, me: { authenticated: false } });
    const clinic = await app.gql<{ currentTenant: unknown; me: unknown }>(
      '{ currentTenant { level tenant { slug } group { slug } app { slug } } me { authenticated roles isSystemAdmin } }',
      {},
      { ...(await tokenFor('demo-clinic-a', ['admin'])) },
    );
    expect(clinic.body.data).toEqual({
      currentTenant: { level: 'TENANT', tenant: { slug: 'demo-clinic-a' }, group: { slug: 'demo-group' }, app: { slug: 'demo-app' } },
      me: { authenticated: true, roles: ['admin'], isSystemAdmin: false },
    });
  });
});
