/**
 * Tenant homepages: GET / on a tenant's domain, set by its admins through setTenantHomepage;
 * our text escaped, the tenant's markup unable to run script; central hosts get a central page.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;
let clinic: ProvisionedTenant & { domain: string };
let otherClinic: ProvisionedTenant & { domain: string };

function get(host: string, path = '/'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: app.port, path, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

const SET = `mutation($tenantId: ID!, $input: TenantHomepageInput!) { setTenantHomepage(tenantId: $tenantId, input: $input) { enabled title html redirectUrl } }`;

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 2);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [], prefix: 'home' });
  otherClinic = await makeClinic(app.tenancy, hierarchy.groups[1]!, 'SCHEMA', { clusterYears: [], prefix: 'home' });
});
afterAll(() => app?.stop());

describe('tenant homepages', () => {
  it('is 404 until enabled, then shows a default page naming the tenant', async () => {
    expect((await get(clinic.domain)).status).toBe(404);
    const groupAdmin = await app.token({ subject: 'group-admin', tenantId: hierarchy.groups[0]!.id, roles: ['admin'] });
    const set = await app.gql(SET, { tenantId: clinic.id, input: { enabled: true } }, { authorization: `Bearer ${groupAdmin}` });
    expect(set.body.errors).toBeUndefined();
    const page = await get(clinic.domain);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain(`<title>Clinic ${clinic.key}</title>`);
  });

  it("serves the tenant's title escaped and its markup under a CSP that runs no script", async () => {
    const admin = await app.token({ subject: 'clinic-admin', tenantId: clinic.id, roles: ['admin'] });
    const set = await app.gql(SET, { tenantId: clinic.id, input: { enabled: true, title: '<b>Smile</b> & co', html: '<h1>Welcome</h1><script>alert(1)</script>' } }, { authorization: `Bearer ${admin}` });
    expect(set.body.errors).toBeUndefined();
    const page = await get(clinic.domain);
    expect(page.body).toContain('<title>&#60;b&#62;Smile&#60;/b&#62; &#38; co</title>');
    expect(page.body).toContain('<h1>Welcome</h1>');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('script-src');
  });

  it('redirects a disabled homepage when it has a redirect URL', async () => {
    const admin = await app.token({ subject: 'clinic-admin', tenantId: clinic.id, roles: ['admin'] });
    await app.gql(SET, { tenantId: clinic.id, input: { enabled: false, redirectUrl: 'https://example.com/clinic' } }, { authorization: `Bearer ${admin}` });
    const page = await get(clinic.domain);
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('https://example.com/clinic');
  });

  it('refuses bad input, strangers and admins of another branch, changing nothing', async () => {
    const admin = await app.token({ subject: 'clinic-admin', tenantId: clinic.id, roles: ['admin'] });
    const bad = await app.gql(SET, { tenantId: clinic.id, input: { enabled: true, redirectUrl: 'javascript:alert(1)', title: 'x'.repeat(300) } }, { authorization: `Bearer ${admin}` });
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((bad.body.errors?.[0]?.extensions?.fields as { field: string }[]).map((f) => f.field).sort()).toEqual(['redirectUrl', 'title']);
    const otherAdmin = await app.token({ subject: 'other-admin', tenantId: hierarchy.groups[1]!.id, roles: ['admin'] });
    const foreign = await app.gql(SET, { tenantId: clinic.id, input: { enabled: true } }, { authorization: `Bearer ${otherAdmin}` });
    expect(foreign.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const member = await app.token({ subject: 'member', tenantId: clinic.id, roles: ['member'] });
    expect((await app.gql(SET, { tenantId: clinic.id, input: { enabled: true } }, { authorization: `Bearer ${member}` })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(SET, { tenantId: clinic.id, input: { enabled: true } })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Still the redirect set before.
    expect((await get(clinic.domain)).status).toBe(302);
    expect((await get(otherClinic.domain)).status).toBe(404);
  });

  it('serves a central page on central hosts and 404 on unknown ones', async () => {
    const central = await get('localhost');
    expect(central.status).toBe(200);
    expect(central.body).toContain('/graphql');
    expect((await get('nobody-here.example')).status).toBe(404);
  });
});
