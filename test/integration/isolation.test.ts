/**
 * The isolation suite: every way one tenant could see or change another's data, over real HTTP,
 * with tenants in both isolation modes under two groups.
 */
import { type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit, type Hierarchy } from '../helpers/tenants.js';

type Clinic = ProvisionedTenant & { domain: string; token: string; patientIds: string[]; marker: string };

let app: TestApp;
let hierarchy: Hierarchy;
/** a1, a2 under group 0 (DATABASE, SCHEMA); b1, b2 under group 1 (DATABASE, SCHEMA). */
let clinics: Record<'a1' | 'a2' | 'b1' | 'b2', Clinic>;
let groupPractitioners: string[][];

/** Adds a random 0–4 ms delay before every root field, so concurrent requests interleave. */
function withRandomDelays(schema: GraphQLSchema): GraphQLSchema {
  const delay = async (resolve: (...args: unknown[]) => unknown, ...args: unknown[]) => {
    await new Promise((done) => setTimeout(done, Math.random() * 4));
    return resolve(...args);
  };
  return applyMiddleware(schema, { Query: delay as never, Patient: { visits: delay as never } });
}

const PATIENTS = `query($first: Int, $after: String, $search: String) {
  currentTenant { tenant { id } }
  patients(first: $first, after: $after, search: $search) { edges { cursor node { id mrn lastName visits { id practitioner { id } } } } pageInfo { hasNextPage endCursor } }
}`;

async function seedClinic(clinic: ProvisionedTenant & { domain: string }, marker: string, practitionerId: string): Promise<Clinic> {
  const token = await app.token({ subject: `user-${marker}`, tenantId: clinic.id, roles: ['admin'] });
  const patientIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await app.gql<{ createPatient: { id: string } }>(
      'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
      { input: { mrn: `${marker}-${i}`, firstName: `First${marker}`, lastName: `Last${marker}${i}` } },
      { authorization: `Bearer ${token}` },
    );
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data!.createPatient.id;
    patientIds.push(id);
    const visit = await app.gql(
      'mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }',
      { input: { patientId: id, practitionerId, reason: `visit of ${marker}` } },
      { authorization: `Bearer ${token}` },
    );
    expect(visit.body.errors).toBeUndefined();
  }
  return { ...clinic, token, patientIds, marker };
}

beforeAll(async () => {
  app = await startTestApp({}, { wrapSchema: withRandomDelays });
  hierarchy = await makeHierarchy(app.tenancy, 2);
  groupPractitioners = [];
  for (const group of hierarchy.groups) {
    const lease = app.tenancy.registry.lease(app.tenancy.strategyFor(group).connectionTarget(group), 'group');
    try {
      const made = await lease.client.practitioner.create({ data: { name: `Dr ${group.key}` } });
      groupPractitioners.push([made.id]);
    } finally {
      lease.release();
    }
  }
  const [g0, g1] = hierarchy.groups as [ProvisionedTenant, ProvisionedTenant];
  clinics = {
    a1: await seedClinic(await makeClinic(app.tenancy, g0, 'DATABASE'), 'AONE', groupPractitioners[0]![0]!),
    a2: await seedClinic(await makeClinic(app.tenancy, g0, 'SCHEMA'), 'ATWO', groupPractitioners[0]![0]!),
    b1: await seedClinic(await makeClinic(app.tenancy, g1, 'DATABASE'), 'BONE', groupPractitioners[1]![0]!),
    b2: await seedClinic(await makeClinic(app.tenancy, g1, 'SCHEMA'), 'BTWO', groupPractitioners[1]![0]!),
  };
});
afterAll(() => app?.stop());

const auth = (clinic: Clinic) => ({ authorization: `Bearer ${clinic.token}` });
const pairs = () =>
  [
    ['a1', 'a2'],
    ['a2', 'a1'],
    ['a1', 'b1'],
    ['a2', 'b2'],
    ['b2', 'a1'],
    ['b1', 'a2'],
  ] as const;

describe('reads never cross tenants', () => {
  it('each token sees exactly its own patients, whatever the isolation mode', async () => {
    for (const clinic of Object.values(clinics)) {
      const { body } = await app.gql<{ patients: { edges: { node: { id: string; mrn: string; visits: { id: string; practitioner: { id: string } }[] } }[] } }>(
        PATIENTS,
        { first: 100 },
        auth(clinic),
      );
      expect(body.errors).toBeUndefined();
      const edges = body.data!.patients.edges;
      expect(edges.map((edge) => edge.node.mrn).sort()).toEqual([0, 1, 2].map((i) => `${clinic.marker}-${i}`));
      expect(edges.map((edge) => edge.node.id).sort()).toEqual([...clinic.patientIds].sort());
      // Visits (cluster schema, batched) and their practitioners (group level, batched) are this clinic's own.
      const ownPractitioner = groupPractitioners[clinic.parentId === hierarchy.groups[0]!.id ? 0 : 1]![0];
      expect(edges.every((edge) => edge.node.visits.length === 1 && edge.node.visits[0]!.practitioner.id === ownPractitioner)).toBe(true);
    }
  });

  it("another tenant's patient id answers NOT_FOUND, exactly like an id that exists nowhere", async () => {
    for (const [mine, theirs] of pairs()) {
      const foreign = await app.gql('query($id: ID!) { patient(id: $id) { id mrn } }', { id: clinics[theirs].patientIds[0] }, auth(clinics[mine]));
      const missing = await app.gql('query($id: ID!) { patient(id: $id) { id mrn } }', { id: '00000000-0000-4000-8000-000000000000' }, auth(clinics[mine]));
      expect(foreign.body.data).toBeNull();
      expect(foreign.body.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['Patient not found', 'NOT_FOUND']]);
      expect(foreign.body.errors).toEqual(missing.body.errors);
      expect(foreign.status).toBe(missing.status);
    }
  });

  it('search finds nothing of another tenant', async () => {
    for (const [mine, theirs] of pairs()) {
      const byName = await app.gql<{ patients: { edges: unknown[] } }>(PATIENTS, { search: `Last${clinics[theirs].marker}` }, auth(clinics[mine]));
      const byMrn = await app.gql<{ patients: { edges: unknown[] } }>(PATIENTS, { search: `${clinics[theirs].marker}-0` }, auth(clinics[mine]));
      expect(byName.body.data!.patients.edges).toEqual([]);
      expect(byMrn.body.data!.patients.edges).toEqual([]);
    }
  });

  it("another tenant's cursor is refused, not followed", async () => {
    const page = await app.gql<{ patients: { pageInfo: { endCursor: string } } }>(PATIENTS, { first: 1 }, auth(clinics.b1));
    const cursor = page.body.data!.patients.pageInfo.endCursor;
    const misuse = await app.gql(PATIENTS, { first: 5, after: cursor }, auth(clinics.a1));
    expect(misuse.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(misuse.body)).not.toContain('BONE');
    // and inside its own tenant it pages on
    const next = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>(PATIENTS, { first: 5, after: cursor }, auth(clinics.b1));
    expect(next.body.data!.patients.edges.map((e) => e.node.mrn)).toEqual(['BONE-1', 'BONE-2']);
  });

  it("a group's practitioners are invisible to the other group's clinics", async () => {
    const { body } = await app.gql<{ practitioners: { id: string }[] }>('{ practitioners { id } }', {}, auth(clinics.a1));
    expect(body.data!.practitioners.map((p) => p.id)).toEqual(groupPractitioners[0]);
  });
});

describe('writes never cross tenants', () => {
  it("updating another tenant's patient is NOT_FOUND and changes nothing", async () => {
    const target = clinics.b2.patientIds[1]!;
    const attempt = await app.gql('mutation($id: ID!) { updatePatient(id: $id, input: { lastName: "Hacked" }) { id } }', { id: target }, auth(clinics.a1));
    expect(attempt.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const still = await app.gql<{ patient: { lastName: string } }>('query($id: ID!) { patient(id: $id) { lastName } }', { id: target }, auth(clinics.b2));
    expect(still.body.data!.patient.lastName).toBe('LastBTWO1');
  });

  it("recording a visit for another tenant's patient, or with another group's practitioner, is NOT_FOUND", async () => {
    const foreignPatient = await app.gql('mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }', { input: { patientId: clinics.b1.patientIds[0] } }, auth(clinics.a1));
    expect(foreignPatient.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const foreignPractitioner = await app.gql(
      'mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }',
      { input: { patientId: clinics.a1.patientIds[0], practitionerId: groupPractitioners[1]![0] } },
      auth(clinics.a1),
    );
    expect(foreignPractitioner.body.errors?.[0]?.message).toBe('Practitioner not found');
  });
});

describe('identification cannot be steered to another tenant', () => {
  it("a token sent to another tenant's host is TENANT_MISMATCH (403), with no data", async () => {
    const { status, body } = await app.gql(PATIENTS, {}, { ...auth(clinics.a1), host: clinics.b1.domain });
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('TENANT_MISMATCH');
    expect(body.data ?? null).toBeNull();
  });

  it("the host alone gives no access to the tenant's data", async () => {
    const { body } = await app.gql(PATIENTS, {}, { host: clinics.b1.domain });
    expect(body.errors?.find((error) => error.path?.[0] === 'patients')?.extensions?.code).toBe('UNAUTHENTICATED');
    // Nor to its id: an anonymous caller sees only the tenant's slug, name and status. (Whether
    // that error is listed depends on which field fails first: the failed non-null `patients`
    // nulls the whole answer.)
    expect(body.errors?.find((error) => error.path?.[0] === 'currentTenant')?.extensions?.code ?? 'FORBIDDEN').toBe('FORBIDDEN');
    expect(JSON.stringify(body)).not.toContain(clinics.b1.id);
    expect(JSON.stringify(body)).not.toContain('BONE');
  });

  it('X-Tenant naming another tenant is refused for a member, and for an admin of another group', async () => {
    const member = await app.gql(PATIENTS, {}, { ...auth(clinics.a1), 'x-tenant': clinics.b1.slug });
    expect(member.body.errors?.[0]?.extensions?.code).toMatch(/^(FORBIDDEN|TENANT_MISMATCH)$/);
    const otherGroupAdmin = await app.token({ subject: 'group-admin', tenantId: hierarchy.groups[1]!.id, roles: ['admin'] });
    const refused = await app.gql(PATIENTS, {}, { authorization: `Bearer ${otherGroupAdmin}`, 'x-tenant': clinics.a1.slug });
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("X-Tenant lets a group admin act on its own clinics, each seeing only that clinic's rows", async () => {
    const groupAdmin = await app.token({ subject: 'group-admin', tenantId: hierarchy.groups[0]!.id, roles: ['admin'] });
    for (const clinic of [clinics.a1, clinics.a2]) {
      const { body } = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>(PATIENTS, {}, { authorization: `Bearer ${groupAdmin}`, 'x-tenant': clinic.slug });
      expect(body.errors).toBeUndefined();
      expect(body.data!.patients.edges.every((edge) => edge.node.mrn.startsWith(clinic.marker))).toBe(true);
    }
  });

  it('a field of another level is TENANT_CONTEXT_REQUIRED, not served from somewhere else', async () => {
    const appToken = await app.token({ subject: 'app-user', tenantId: hierarchy.app.id, roles: ['admin'] });
    const { body } = await app.gql(PATIENTS, {}, { authorization: `Bearer ${appToken}` });
    expect(body.errors?.[0]?.extensions?.code).toBe('TENANT_CONTEXT_REQUIRED');
    const catalog = await app.gql<{ catalogItems: unknown[] }>('{ catalogItems { id } }', {}, { authorization: `Bearer ${appToken}` });
    expect(catalog.body.errors).toBeUndefined();
  });
});

describe('concurrency', () => {
  it('1,000 interleaved requests across 50 tenants each see only their own tenant', async () => {
    const [g0, g1] = hierarchy.groups as [ProvisionedTenant, ProvisionedTenant];
    const extra = await mapLimit(Array.from({ length: 46 }, (_, i) => i), 4, async (i) => {
      const clinic = await makeClinic(app.tenancy, i % 2 === 0 ? g0 : g1, i % 4 < 2 ? 'DATABASE' : 'SCHEMA', { clusterYears: [] });
      const marker = `M${i}X`;
      const lease = app.tenancy.registry.lease(app.tenancy.strategyFor(clinic).connectionTarget(clinic), 'tenant');
      try {
        await lease.client.patient.create({ data: { mrn: `${marker}-0`, firstName: 'F', lastName: `L${marker}` } });
      } finally {
        lease.release();
      }
      return { ...clinic, marker, token: await app.token({ subject: `u${i}`, tenantId: clinic.id, roles: ['admin'] }) };
    });
    const fleet = [...Object.values(clinics), ...extra];
    expect(fleet).toHaveLength(50);
    const query = '{ currentTenant { tenant { id } } patients(first: 10) { edges { node { mrn } } } }';
    const requests = Array.from({ length: 1000 }, (_, i) => fleet[(i * 7919) % fleet.length]!);
    const wrong: string[] = [];
    await mapLimit(requests, 64, async (clinic) => {
      const { body } = await app.gql<{ currentTenant: { tenant: { id: string } }; patients: { edges: { node: { mrn: string } }[] } }>(query, {}, {
        authorization: `Bearer ${clinic.token}`,
      });
      const data = body.data;
      if (!data || data.currentTenant.tenant.id !== clinic.id || data.patients.edges.length === 0 || data.patients.edges.some((e) => !e.node.mrn.startsWith(clinic.marker))) {
        wrong.push(`${clinic.slug}: ${JSON.stringify(body).slice(0, 200)}`);
      }
    });
    expect(wrong).toEqual([]);
  });
});
