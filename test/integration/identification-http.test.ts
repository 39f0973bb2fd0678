/**
 * Bad identification input over real HTTP: each gets its code and HTTP status, and no data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
let clinic: ProvisionedTenant & { domain: string };
let token: string;
const QUERY = '{ patients { edges { node { id } } } }';

beforeAll(async () => {
  app = await startTestApp();
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  token = await app.token({ subject: 'u1', tenantId: clinic.id, roles: ['admin'] });
});
afterAll(() => app?.stop());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function expectRefused(headers: Record<string, string>, status: number, code: string) {
  const response = await app.gql(QUERY, {}, headers);
  expect({ status: response.status, code: response.body.errors?.[0]?.extensions?.code }).toEqual({ status, code });
  expect(response.body.data ?? null).toBeNull();
  return response;
}

describe('identification errors over HTTP', () => {
  it('malformed, expired, wrongly signed and alg:none tokens are UNAUTHENTICATED (401)', async () => {
    await expectRefused({ authorization: 'Bearer not.a.jwt' }, 401, 'UNAUTHENTICATED');
    await expectRefused({ authorization: 'Basic dXNlcjpwYXNz' }, 401, 'UNAUTHENTICATED');
    const expired = await app.token({ subject: 'u1', tenantId: clinic.id, roles: ['admin'] }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    await expectRefused({ authorization: `Bearer ${expired}` }, 401, 'UNAUTHENTICATED');
    const [header, payload] = token.split('.');
    await expectRefused({ authorization: `Bearer ${header}.${payload}.${'A'.repeat(43)}` }, 401, 'UNAUTHENTICATED');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    await expectRefused({ authorization: `Bearer ${none}` }, 401, 'UNAUTHENTICATED');
  });

  it('an unknown host is TENANT_NOT_FOUND (404)', async () => {
    await expectRefused({ authorization: `Bearer ${token}`, host: 'nobody.example.org' }, 404, 'TENANT_NOT_FOUND');
  });

  it('a maintenance tenant answers 503 with Retry-After; a suspended one 403; a deleted one 404', async () => {
    const setAndInvalidate = async (sql: string) => {
      await app.tenancy.central.query(sql, [clinic.id]);
      await app.tenancy.events.publish({ type: 'TenantUpdated', tenantId: clinic.id });
    };
    const userToken = await app.token({ subject: 'u2', tenantId: clinic.id, roles: ['staff'], abilities: ['patients:read'] });
    const auth = { authorization: `Bearer ${userToken}` };
    try {
      await setAndInvalidate('UPDATE tenants SET maintenance = true WHERE id = $1');
      const maintenance = await expectRefused(auth, 503, 'TENANT_MAINTENANCE');
      expect(maintenance.headers.get('retry-after')).toBe('60');
      await setAndInvalidate('UPDATE tenants SET maintenance = false, status = $$SUSPENDED$$ WHERE id = $1');
      await expectRefused(auth, 403, 'TENANT_SUSPENDED');
      await setAndInvalidate('UPDATE tenants SET status = $$ACTIVE$$, deleted_at = now() WHERE id = $1');
      await expectRefused({ authorization: `Bearer ${userToken}`, host: clinic.domain }, 404, 'TENANT_NOT_FOUND');
    } finally {
      await setAndInvalidate('UPDATE tenants SET maintenance = false, status = $$ACTIVE$$, deleted_at = NULL WHERE id = $1');
    }
    const back = await app.gql(QUERY, {}, auth);
    expect(back.body.errors).toBeUndefined();
  });

  it('a staff token without the ability is FORBIDDEN', async () => {
    const staff = await app.token({ subject: 'u3', tenantId: clinic.id, roles: ['staff'] });
    const { status, body } = await app.gql(QUERY, {}, { authorization: `Bearer ${staff}` });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(status).toBe(403);
  });
});
