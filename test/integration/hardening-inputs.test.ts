/**
 * Issue 7, rows on input and disclosure, replayed over real HTTP against the real server:
 * NUL bytes, forged cursors, out-of-range input, field suggestions in production, what an
 * anonymous caller learns about a host's tenant, and tokens with a future `iat` or a century-long life.
 */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logCapture, postJson, startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';

let app: TestApp;
const logs = logCapture();
let hierarchy: Hierarchy;
let clinic: ProvisionedTenant & { domain: string };
let adminToken: string;
let auth: Record<string, string>;

const CREATE = 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id firstName } }';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: 'trace' }, { logger: logs.logger });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE');
  adminToken = await app.token({ subject: 'clinic-admin', tenantId: clinic.id, roles: ['admin'] });
  auth = { authorization: `Bearer ${adminToken}` };
});
afterAll(() => app?.stop());

async function patientCount(): Promise<number> {
  const lease = app.tenancy.registry.lease(app.tenancy.strategyFor(clinic).connectionTarget(clinic), 'tenant');
  try {
    return await lease.client.patient.count();
  } finally {
    lease.release();
  }
}

describe('text PostgreSQL cannot store is BAD_USER_INPUT', () => {
  it('createPatient(input: { firstName: "a\\u0000b" }) in a variable or a literal: 400 BAD_USER_INPUT, nothing written', async () => {
    const before = await patientCount();
    const viaVariable = await app.gql(CREATE, { input: { mrn: 'nul-1', firstName: 'a\u0000b', lastName: 'Doe' } }, auth);
    expect(viaVariable.status).toBe(400);
    expect(viaVariable.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'input.firstName' });
    const viaLiteral = await app.gql('mutation { createPatient(input: { mrn: "nul-2", firstName: "a\\u0000b", lastName: "Doe" }) { id } }', {}, auth);
    expect(viaLiteral.status).toBe(400);
    expect(viaLiteral.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const surrogate = await app.gql(CREATE, { input: { mrn: 'nul-3', firstName: 'a\uD800b', lastName: 'Doe' } }, auth);
    expect(surrogate.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Sent as a persisted query, then by its hash alone: refused both times, never run.
    const literal = 'mutation { createPatient(input: { mrn: "nul-4", firstName: "a\\u0000b", lastName: "Doe" }) { id } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(literal).digest('hex') };
    const registered = await postJson<unknown>(app.port, '/graphql', { query: literal, extensions: { persistedQuery } }, auth);
    expect(registered.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const byHash = await postJson<unknown>(app.port, '/graphql', { extensions: { persistedQuery } }, auth);
    expect(['BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND']).toContain(byHash.body.errors?.[0]?.extensions?.code);
    expect(await patientCount()).toBe(before);
    // Everything else still works, emoji included.
    const fine = await app.gql<{ createPatient: { firstName: string } }>(CREATE, { input: { mrn: 'ok-1', firstName: 'Zoë 😀', lastName: 'Doe' } }, auth);
    expect(fine.body.errors).toBeUndefined();
    expect(fine.body.data?.createPatient.firstName).toBe('Zoë 😀');
  });
});

describe('cursors and ids', () => {
  it('a well-formed cursor whose id is not a uuid is BAD_USER_INPUT, and no SQL reaches the log', async () => {
    const firstError = logs.lines.length;
    for (const cursor of [
      b64([clinic.id, 'Doe', 'Jane', 'not-a-uuid']),
      b64([clinic.id, 'Doe', 'Jane', "'; DROP TABLE patients; --"]),
      b64([clinic.id, 'Do\u0000e', 'Jane', '7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6']),
      b64([clinic.id, 1, { a: 1 }, null]),
      b64([clinic.id]),
      'x'.repeat(50_000),
    ]) {
      const { status, body } = await app.gql('query($after: String) { patients(after: $after) { edges { cursor } } }', { after: cursor }, auth);
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const newLines = logs.lines.slice(firstError).join('');
    expect(newLines).not.toMatch(/SELECT|prisma\.|invocation/i);
    expect(newLines).not.toMatch(/"level":50/); // nothing logged as an error
  });

  it('ids that are not uuids are NOT_FOUND (or empty lists), never a database error', async () => {
    for (const id of ['1', 'not-a-uuid', "' OR 1=1 --", 'x'.repeat(10_000)]) {
      const patient = await app.gql('query($id: ID!) { patient(id: $id) { id } }', { id }, auth);
      expect(patient.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const visits = await app.gql<{ visits: unknown[] }>('query($id: ID) { visits(year: 2026, patientId: $id) { id } }', { id }, auth);
      expect(visits.body.errors?.[0]?.extensions?.code ?? 'none').not.toBe('INTERNAL_SERVER_ERROR');
    }
  });

  it('out-of-range numbers and dates are refused as client errors', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['query($n: Int) { patients(first: $n) { edges { cursor } } }', { n: 2 ** 31 }],
      ['query($n: Int) { patients(first: $n) { edges { cursor } } }', { n: -1 }],
      ['query($y: Int!) { visits(year: $y) { id } }', { y: 99999 }],
      ['query($y: Int!) { invoices(year: $y) { id } }', { y: -2_147_483_648 }],
      ['mutation($d: DateTimeISO) { recordVisit(input: { patientId: "7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6", visitedAt: $d }) { id } }', { d: '0000-01-01T00:00:00Z' }],
      ['mutation($d: DateTimeISO) { recordVisit(input: { patientId: "7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6", visitedAt: $d }) { id } }', { d: '10000-01-01T00:00:00Z' }],
      ['mutation($d: DateTimeISO) { recordVisit(input: { patientId: "7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6", visitedAt: $d }) { id } }', { d: '2026-02-30T00:00:00Z' }],
      ['mutation($d: DateTimeISO) { createInvoice(input: { patientId: "7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6", issuedAt: $d, lines: [] }) { id } }', { d: '9999-12-31T23:59:59Z' }],
      ['mutation($b: String) { createPatient(input: { mrn: "d-1", firstName: "A", lastName: "B", birthDate: $b }) { id } }', { b: '0000-01-01' }],
      ['mutation($b: String) { createPatient(input: { mrn: "d-2", firstName: "A", lastName: "B", birthDate: $b }) { id } }', { b: '99999-01-01' }],
    ];
    for (const [query, variables] of cases) {
      const { body } = await app.gql(query, variables, auth);
      const code = body.errors?.[0]?.extensions?.code;
      // A `first` beyond Int may be refused by the cost limit before coercion: a client error too.
      expect(['BAD_USER_INPUT', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX'], `${query} ${JSON.stringify(variables)}`).toContain(code);
    }
  });
});

describe('what an anonymous caller learns', () => {
  const PROBE = '{ currentTenant { level tenant { id name isolation domains { domain } parent { id name parent { id name } } } app { id name } group { id name } } }';

  it('slug, name and status by host, nothing else', async () => {
    const host = { host: clinic.domain };
    const open = await app.gql<{ currentTenant: { tenant: Record<string, unknown> } }>('{ currentTenant { tenant { slug name status } } }', {}, host);
    expect(open.body.errors).toBeUndefined();
    expect(open.body.data?.currentTenant.tenant).toEqual({ slug: clinic.slug, name: clinic.name, status: 'ACTIVE' });

    const probe = await app.gql<{ currentTenant: Record<string, unknown> }>(PROBE, {}, host);
    const text = JSON.stringify(probe.body);
    for (const secret of [clinic.id, hierarchy.app.id, hierarchy.groups[0]!.id, hierarchy.app.name, hierarchy.groups[0]!.name, clinic.domain, 'DATABASE']) {
      expect(text).not.toContain(secret);
    }
    expect(probe.body.data?.currentTenant).toMatchObject({ tenant: null, app: null, group: null });
    expect(new Set(probe.body.errors?.map((error) => error.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
  });

  it('a token of another tenant learns no more at this host than an anonymous caller', async () => {
    const central = await app.token({ subject: 'someone', roles: [] });
    const probe = await app.gql('{ currentTenant { tenant { id slug } app { id } } }', {}, { host: clinic.domain, authorization: `Bearer ${central}` });
    expect(JSON.stringify(probe.body)).not.toContain(clinic.id);
    expect(probe.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("the clinic's own admin sees the whole chain", async () => {
    const { body } = await app.gql<{ currentTenant: { tenant: { id: string; isolation: string; parent: { id: string } }; app: { id: string } } }>(
      '{ currentTenant { tenant { id isolation domains { domain } parent { id } } app { id } group { id } } }',
      {},
      auth,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.currentTenant).toMatchObject({ tenant: { id: clinic.id, isolation: 'DATABASE', parent: { id: hierarchy.groups[0]!.id } }, app: { id: hierarchy.app.id } });
  });
});

describe('tokens', () => {
  const sign = (iat: number, exp: number) =>
    new SignJWT({ tid: clinic.id, roles: ['admin'], abilities: [] })
      .setProtectedHeader({ alg: 'HS256', kid: app.tokens.keyId })
      .setSubject('clinic-admin')
      .setIssuer(app.tokens.issuer)
      .setAudience(app.tokens.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(app.tokens.key);
  const now = () => Math.floor(Date.now() / 1000);

  it('a token issued in the future (beyond 60 s of skew) is UNAUTHENTICATED', async () => {
    const { status, body } = await app.gql('{ me { subject } }', {}, { authorization: `Bearer ${await sign(now() + 3600, now() + 7200)}` });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a token that expires in 100 years is UNAUTHENTICATED', async () => {
    const { status, body } = await app.gql('{ me { subject } }', {}, { authorization: `Bearer ${await sign(now(), now() + 100 * 365 * 86_400)}` });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a normal token still works (and keeps working from the verified-token cache)', async () => {
    const token = await sign(now(), now() + 3600);
    for (let i = 0; i < 2; i++) {
      const { body } = await app.gql<{ me: { subject: string } }>('{ me { subject } }', {}, { authorization: `Bearer ${token}` });
      expect(body.data?.me.subject).toBe('clinic-admin');
    }
  });
});

describe('field suggestions', () => {
  it('development suggests fields; production (introspection off) does not', async () => {
    const dev = await app.gql('{ patientz }', {}, auth);
    expect(dev.body.errors?.[0]?.message).toContain('Did you mean');
    const production = await startTestApp({ NODE_ENV: 'production' });
    try {
      const { status, body } = await production.gql('{ patientz }', {}, auth);
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors?.[0]?.message).not.toMatch(/Did you mean|"patient"/);
      const argument = await production.gql('{ patients(firs: 1) { edges { cursor } } }', {}, auth);
      expect(argument.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
    } finally {
      await production.stop();
    }
  });
});
