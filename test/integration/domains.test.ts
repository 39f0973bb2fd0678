/**
 * Custom domains over real HTTP: add, verify (by a system admin, and by the check job fetching the
 * .well-known token from our own server), make primary, remove; by ancestors' admins only; bad
 * input refused by code and field; with REQUIRE_VERIFIED_DOMAINS=true an unverified domain does
 * not route, and every change reaches a second server process within a second.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDomainProbe } from '../../src/tenancy/domains/domain-probe.js';
import { makeTenantDomains } from '../../src/tenancy/domains/tenant-domains.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { ownCentralDatabase, startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

type Result = { status: number; body: { data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] } };
type Managed = { domain: { id: string; domain: string; isPrimary: boolean; isVerified: boolean; verifiedAt: string | null }; verificationUrl: string; checkQueued: boolean };

let app: TestApp;
let other: TestApp;
let hierarchy: Hierarchy;
let foreign: Hierarchy;
let clinic: ProvisionedTenant & { domain: string };
let sibling: ProvisionedTenant & { domain: string };
const auth = {} as Record<'system' | 'group' | 'foreignGroup' | 'clinic', Record<string, string>>;

const env: Record<string, string> = { REQUIRE_VERIFIED_DOMAINS: 'true', WORKER_POLL_INTERVAL_MS: '100' };
const bearer = async (tenantId: string | null, roles: string[]) => ({ authorization: `Bearer ${await app.token({ subject: `u-${roles.join()}-${tenantId}`, tenantId, roles })}` });
const code = (result: Result) => result.body.errors?.[0]?.extensions?.code;
const field = (result: Result) => result.body.errors?.[0]?.extensions?.field;
const MANAGED = 'domain { id domain isPrimary isVerified verifiedAt } verificationUrl checkQueued';
const ADD = `mutation($tenantId: ID!, $domain: String!) { addDomain(tenantId: $tenantId, domain: $domain) { ${MANAGED} } }`;
const VERIFY = `mutation($id: ID!) { verifyDomain(domainId: $id) { ${MANAGED} } }`;
const PRIMARY = 'mutation($id: ID!) { setPrimaryDomain(domainId: $id) { id domain isPrimary } }';
const REMOVE = 'mutation($id: ID!) { removeDomain(domainId: $id) { id domain } }';
const PATIENTS = '{ patients { edges { node { mrn } } } }';

const add = (tenantId: string, domain: string, who: Record<string, string>) => app.gql<{ addDomain: Managed }>(ADD, { tenantId, domain }, who) as Promise<Result & { body: { data?: { addDomain: Managed } | null } }>;
const domainName = () => `${uniqueKey('dom').replace(/_/g, '-')}.example.test`;

/** Whether `host` reaches the clinic on `server` (the clinic admin's token, routed by host alone). */
async function routes(server: TestApp, host: string): Promise<boolean> {
  const result = await server.gql(PATIENTS, {}, { ...auth.clinic, host });
  if (result.body.errors === undefined) return true;
  expect(code(result)).toBe('TENANT_NOT_FOUND');
  return false;
}

/** GET with a chosen Host header (fetch drops it). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function within(ms: number, fn: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  // A central database of this file's own: its domain check jobs must run on this file's worker,
  // whose probe reaches this server. On the shared one, another file's worker could take the job,
  // probe the made-up domain by DNS, fail, and retry with backoff (seen: a 45 s wait in a full run).
  const centralUrl = await ownCentralDatabase('domains');
  env.DATABASE_URL = centralUrl;
  // The check job fetches http://<domain>/.well-known/... ; here it connects to this very server, naming the domain in Host.
  let port = 0;
  app = await startTestApp(env, { domainProbe: httpDomainProbe({ timeoutMs: 2000, connectTo: () => ({ host: '127.0.0.1', port }) }) });
  port = app.port;
  other = await startTestApp({ ...env, WORKER: 'false' });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  foreign = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  sibling = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  auth.system = await bearer(null, ['system_admin']);
  auth.group = await bearer(hierarchy.groups[0]!.id, ['admin']);
  auth.foreignGroup = await bearer(foreign.groups[0]!.id, ['admin']);
  auth.clinic = await bearer(clinic.id, ['admin']);
});
afterAll(async () => {
  await other?.stop();
  await app?.stop();
});

describe('who may manage domains, and bad input', () => {
  it('answers NOT_FOUND to another branch and to the tenant itself; needs an admin', async () => {
    const name = domainName();
    expect(code(await add(clinic.id, name, {}))).toBe('UNAUTHENTICATED');
    expect(code(await add(clinic.id, name, await bearer(hierarchy.groups[0]!.id, ['member'])))).toBe('FORBIDDEN');
    expect(code(await add(clinic.id, name, auth.foreignGroup))).toBe('NOT_FOUND');
    expect(code(await add(clinic.id, name, auth.clinic))).toBe('NOT_FOUND'); // not below itself
    expect(code(await add('not-a-uuid', name, auth.system))).toBe('NOT_FOUND');
    const added = await add(clinic.id, name, auth.group);
    expect(added.body.errors).toBeUndefined();
    const id = added.body.data!.addDomain.domain.id;
    for (const query of [VERIFY, PRIMARY, REMOVE]) expect(code(await app.gql(query, { id }, auth.foreignGroup))).toBe('NOT_FOUND');
    expect((await app.central.pool.query('SELECT is_verified, is_primary FROM domains WHERE id = $1', [id])).rows).toEqual([{ is_verified: false, is_primary: false }]);
    expect((await app.gql(REMOVE, { id }, auth.group)).body.errors).toBeUndefined();
  });

  it('refuses what is not a host name with BAD_USER_INPUT naming domain, and stores nothing', async () => {
    for (const bad of ['not a host', '127.0.0.1', 'localhost', 'a..b.test', '-x.test', 'x.test:8080', 'x.test.', `${'a'.repeat(64)}.test`, 'clinic.localhost', '']) {
      const result = await add(clinic.id, bad, auth.group);
      expect([bad, code(result), field(result)]).toEqual([bad, 'BAD_USER_INPUT', 'domain']);
    }
    expect((await app.central.pool.query('SELECT count(*)::int AS n FROM domains WHERE tenant_id = $1', [clinic.id])).rows[0].n).toBe(1);
  });

  it('gives a domain to one tenant only: CONFLICT naming domain, whatever its case', async () => {
    const name = domainName();
    const first = await add(clinic.id, name.toUpperCase(), auth.group);
    expect(first.body.data?.addDomain.domain.domain).toBe(name); // stored lower-case
    const again = await add(sibling.id, name, auth.group);
    expect([code(again), field(again)]).toEqual(['CONFLICT', 'domain']);
    const taken = await add(sibling.id, clinic.domain, auth.system);
    expect([code(taken), field(taken)]).toEqual(['CONFLICT', 'domain']);
    expect((await app.gql(REMOVE, { id: first.body.data!.addDomain.domain.id }, auth.system)).body.errors).toBeUndefined();
  });
});

describe('verification and routing with REQUIRE_VERIFIED_DOMAINS=true', () => {
  it('an unverified domain does not route; the check job fetches the token from our server and it routes everywhere, without a restart', async () => {
    const name = domainName();
    const added = await add(clinic.id, name, auth.group);
    const managed = added.body.data!.addDomain;
    expect(managed.domain).toMatchObject({ domain: name, isVerified: false, verifiedAt: null });
    const token = managed.verificationUrl.split('/').pop()!;
    expect(managed.verificationUrl).toBe(`http://${name}/.well-known/tenantgraph-verification/${token}`);
    expect(await routes(app, name)).toBe(false);
    expect(await routes(other, name)).toBe(false); // cached as unknown in the other process too

    // Our server answers the token on that host only.
    expect(await getWithHost(app.port, `/.well-known/tenantgraph-verification/${token}`, name)).toEqual({ status: 200, body: token });
    expect((await getWithHost(app.port, `/.well-known/tenantgraph-verification/${token}`, clinic.domain)).status).toBe(404);
    expect((await getWithHost(app.port, `/.well-known/tenantgraph-verification/${'0'.repeat(64)}`, name)).status).toBe(404);

    const verify = await app.gql<{ verifyDomain: Managed }>(VERIFY, { id: managed.domain.id }, auth.group);
    expect(verify.body.errors).toBeUndefined();
    expect(verify.body.data!.verifyDomain).toMatchObject({ checkQueued: true, domain: { isVerified: false } });
    // The job runs on the worker's next poll; generous under a loaded machine (the 1 s bound below is the one the issue sets).
    await within(45_000, async () => (await app.central.pool.query('SELECT is_verified FROM domains WHERE id = $1', [managed.domain.id])).rows[0].is_verified === true);
    const took = await within(1000, () => routes(other, name));
    expect(took).toBeLessThan(1000);
    expect(await routes(app, name)).toBe(true);
  });

  it('a failed check leaves the domain unverified and records why', async () => {
    const name = domainName();
    const managed = (await add(clinic.id, name, auth.group)).body.data!.addDomain;
    // A host that answers something else, then one that does not answer at all.
    const impostor = http.createServer((_req, res) => res.end('not the token'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const impostorPort = (impostor.address() as { port: number }).port;
    const domains = makeTenantDomains({ tenancy: app.tenancy, jobs: () => app.jobs, probe: httpDomainProbe({ timeoutMs: 1000, connectTo: () => ({ host: '127.0.0.1', port: impostorPort }) }) });
    const state = async () => (await app.central.pool.query('SELECT is_verified, verification_error FROM domains WHERE id = $1', [managed.domain.id])).rows[0];
    expect(await domains.runCheck(managed.domain.id)).toBe(false);
    expect(await state()).toMatchObject({ is_verified: false, verification_error: expect.stringContaining('something other than the token') });
    await new Promise((resolve) => impostor.close(resolve));
    expect(await domains.runCheck(managed.domain.id)).toBe(false);
    expect(await state()).toMatchObject({ is_verified: false, verification_error: expect.stringContaining('could not fetch') });
    expect(await routes(app, name)).toBe(false);
    expect((await app.gql(REMOVE, { id: managed.domain.id }, auth.group)).body.errors).toBeUndefined();
  });

  it('a system admin marks a domain verified at once; primary moves; removal stops routing within a second', async () => {
    const name = domainName();
    const managed = (await add(clinic.id, name, auth.group)).body.data!.addDomain;
    expect(await routes(other, name)).toBe(false);
    const verify = await app.gql<{ verifyDomain: Managed }>(VERIFY, { id: managed.domain.id }, auth.system);
    expect(verify.body.data!.verifyDomain).toMatchObject({ checkQueued: false, domain: { isVerified: true } });
    expect(verify.body.data!.verifyDomain.domain.verifiedAt).not.toBeNull();
    expect(await within(1000, () => routes(other, name))).toBeLessThan(1000);

    const primary = await app.gql<{ setPrimaryDomain: { isPrimary: boolean } }>(PRIMARY, { id: managed.domain.id }, auth.group);
    expect(primary.body.data?.setPrimaryDomain.isPrimary).toBe(true);
    const rows = await app.central.pool.query<{ domain: string }>('SELECT domain FROM domains WHERE tenant_id = $1 AND is_primary', [clinic.id]);
    expect(rows.rows).toEqual([{ domain: name }]);

    expect((await app.gql(REMOVE, { id: managed.domain.id }, auth.group)).body.errors).toBeUndefined();
    expect(await within(1000, async () => !(await routes(other, name)))).toBeLessThan(1000);
    // The primary moved to a remaining domain; the removed one is gone and free to take again.
    const left = await app.central.pool.query<{ domain: string }>('SELECT domain FROM domains WHERE tenant_id = $1 AND is_primary', [clinic.id]);
    expect(left.rows).toHaveLength(1);
    expect(left.rows[0]!.domain).not.toBe(name);
    expect(code(await app.gql(REMOVE, { id: managed.domain.id }, auth.group))).toBe('NOT_FOUND');
    expect((await add(sibling.id, name, auth.group)).body.errors).toBeUndefined();
  });
  it('a soft-deleted and restored tenant gets its verified domains back, still verified and routing', async () => {
    const clinicC = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
    const name = domainName();
    const managed = (await add(clinicC.id, name, auth.group)).body.data!.addDomain;
    expect((await app.gql(VERIFY, { id: managed.domain.id }, auth.system)).body.errors).toBeUndefined();
    const adminC = await bearer(clinicC.id, ['admin']);
    const reaches = async () => (await app.gql(PATIENTS, {}, { ...adminC, host: name })).body.errors === undefined;
    expect(await reaches()).toBe(true);
    expect((await app.gql('mutation($id: ID!) { deleteTenant(id: $id) { hard } }', { id: clinicC.id }, auth.group)).body.errors).toBeUndefined();
    expect(await reaches()).toBe(false);
    expect((await app.gql('mutation($id: ID!) { restoreTenant(id: $id) { status } }', { id: clinicC.id }, auth.group)).body.errors).toBeUndefined();
    const rows = await app.central.pool.query('SELECT is_verified, verified_at IS NOT NULL AS stamped FROM domains WHERE domain = $1', [name]);
    expect(rows.rows).toEqual([{ is_verified: true, stamped: true }]);
    expect(await reaches()).toBe(true);
  });
});
