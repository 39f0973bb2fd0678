/**
 * Two server processes behind one load balancer (docs/deploy.md): process A is the test's own
 * server (startTestApp), process B a second server in a child process on the same database and
 * Redis. The key isolation checks run alternating between the two; nothing is shared in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type GqlResult, type TestApp } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

type Clinic = ProvisionedTenant & { domain: string; token: string; patientIds: string[]; marker: string };
type Server = { name: string; gql: TestApp['gql'] };
type Patients = { patients: { edges: { cursor: string; node: { id: string; mrn: string } }[]; pageInfo: { endCursor: string } } };

const PATIENTS = `query($first: Int, $after: String) {
  patients(first: $first, after: $after) { edges { cursor node { id mrn } } pageInfo { endCursor } }
}`;
const PATIENT = 'query($id: ID!) { patient(id: $id) { id mrn lastName } }';
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

let processA: TestApp;
let processB: ServerProcess;
let servers: [Server, Server];
/** a1, a2 under group 0 (DATABASE, SCHEMA); b1, b2 under group 1 (DATABASE, SCHEMA). */
let clinics: Record<'a1' | 'a2' | 'b1' | 'b2', Clinic>;

const auth = (clinic: Clinic) => ({ authorization: `Bearer ${clinic.token}` });
/** Both servers, starting with the one `n` picks: every check is made on each process in turn. */
const inTurn = (n: number): [Server, Server] => (n % 2 === 0 ? servers : [servers[1], servers[0]]);

beforeAll(async () => {
  // Long cache TTLs: anything process B learns within a second came from an event, not from expiry.
  processA = await startTestApp({ TENANT_CACHE_TTL_MS: '600000' });
  processB = await startServerProcess({ TENANT_CACHE_TTL_MS: '600000' });
  servers = [
    { name: 'process A', gql: processA.gql },
    { name: 'process B', gql: processB.gql },
  ];
  const { groups } = await makeHierarchy(processA.tenancy, 2);
  const [g0, g1] = groups as [ProvisionedTenant, ProvisionedTenant];
  const seed = async (clinic: ProvisionedTenant & { domain: string }, marker: string, n: number): Promise<Clinic> => {
    const token = await processA.token({ subject: `user-${marker}`, tenantId: clinic.id, roles: ['admin'] });
    const patientIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Rows are written through both processes.
      const server = inTurn(n + i)[0];
      const created = await server.gql<{ createPatient: { id: string } }>(
        'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
        { input: { mrn: `${marker}-${i}`, firstName: `First${marker}`, lastName: `Last${marker}${i}` } },
        { authorization: `Bearer ${token}` },
      );
      expect(created.body.errors, `${server.name}: ${JSON.stringify(created.body.errors)}`).toBeUndefined();
      patientIds.push(created.body.data!.createPatient.id);
    }
    return { ...clinic, token, patientIds, marker };
  };
  clinics = {
    a1: await seed(await makeClinic(processA.tenancy, g0, 'DATABASE'), 'AONE', 0),
    a2: await seed(await makeClinic(processA.tenancy, g0, 'SCHEMA'), 'ATWO', 1),
    b1: await seed(await makeClinic(processA.tenancy, g1, 'DATABASE'), 'BONE', 2),
    b2: await seed(await makeClinic(processA.tenancy, g1, 'SCHEMA'), 'BTWO', 3),
  };
}, 120_000);

afterAll(async () => {
  await processB?.stop();
  await processA?.stop();
});

const pairs = () =>
  [
    ['a1', 'a2'],
    ['a2', 'a1'],
    ['a1', 'b1'],
    ['a2', 'b2'],
    ['b2', 'a1'],
    ['b1', 'a2'],
  ] as const;

function errorsOf(result: GqlResult<unknown>): [string, unknown][] | undefined {
  return result.body.errors?.map((error) => [error.message, error.extensions?.code]);
}

describe('two server processes serve the isolation suite', () => {
  it('each token sees exactly its own patients on either process', async () => {
    for (const [n, clinic] of Object.values(clinics).entries()) {
      for (const server of inTurn(n)) {
        const { body } = await server.gql<Patients>(PATIENTS, { first: 100 }, auth(clinic));
        expect(body.errors, server.name).toBeUndefined();
        const edges = body.data!.patients.edges;
        expect(edges.map((edge) => edge.node.mrn).sort(), server.name).toEqual([0, 1, 2].map((i) => `${clinic.marker}-${i}`));
        expect(edges.map((edge) => edge.node.id).sort(), server.name).toEqual([...clinic.patientIds].sort());
      }
    }
  });

  it("another tenant's patient id answers NOT_FOUND on either process, exactly like a missing one", async () => {
    for (const [n, [mine, theirs]] of pairs().entries()) {
      const [first, second] = inTurn(n);
      const foreign = await first.gql(PATIENT, { id: clinics[theirs].patientIds[0] }, auth(clinics[mine]));
      const missing = await second.gql(PATIENT, { id: MISSING_ID }, auth(clinics[mine]));
      expect(foreign.body.data, first.name).toBeNull();
      expect(errorsOf(foreign), first.name).toEqual([['Patient not found', 'NOT_FOUND']]);
      expect(foreign.body.errors).toEqual(missing.body.errors);
      expect(foreign.status).toBe(missing.status);
      expect(JSON.stringify(foreign.body)).not.toContain(clinics[theirs].marker);
    }
  });

  it("a token sent to another tenant's host is TENANT_MISMATCH on either process", async () => {
    for (const [n, [mine, theirs]] of pairs().entries()) {
      for (const server of inTurn(n)) {
        const { status, body } = await server.gql(PATIENTS, {}, { ...auth(clinics[mine]), host: clinics[theirs].domain });
        expect(status, server.name).toBe(403);
        expect(body.errors?.[0]?.extensions?.code, server.name).toBe('TENANT_MISMATCH');
        expect(body.data ?? null).toBeNull();
      }
    }
  });

  it('a write through one process is read through the other by the same tenant only', async () => {
    for (const [n, [mine, theirs]] of pairs().entries()) {
      const [writer, reader] = inTurn(n);
      const mrn = `${clinics[mine].marker}-x${n}`;
      const created = await writer.gql<{ createPatient: { id: string } }>(
        'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
        { input: { mrn, firstName: 'Cross', lastName: `Process${n}` } },
        auth(clinics[mine]),
      );
      expect(created.body.errors, writer.name).toBeUndefined();
      const id = created.body.data!.createPatient.id;
      const own = await reader.gql<{ patient: { mrn: string } }>(PATIENT, { id }, auth(clinics[mine]));
      expect(own.body.data?.patient.mrn, reader.name).toBe(mrn);
      const other = await reader.gql(PATIENT, { id }, auth(clinics[theirs]));
      expect(errorsOf(other), reader.name).toEqual([['Patient not found', 'NOT_FOUND']]);
      const listed = await reader.gql<Patients>(PATIENTS, { first: 100 }, auth(clinics[theirs]));
      expect(listed.body.data!.patients.edges.map((edge) => edge.node.id)).not.toContain(id);
      // An update of the other tenant's row through the writer changes nothing the reader sees.
      const hijack = await writer.gql('mutation($id: ID!) { updatePatient(id: $id, input: { lastName: "Hacked" }) { id } }', { id }, auth(clinics[theirs]));
      expect(hijack.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const still = await reader.gql<{ patient: { lastName: string } }>(PATIENT, { id }, auth(clinics[mine]));
      expect(still.body.data!.patient.lastName).toBe(`Process${n}`);
    }
  });

  it("another tenant's cursor is refused on the other process, and pages on for its own tenant", async () => {
    for (const [n, [mine, theirs]] of pairs().entries()) {
      const [first, second] = inTurn(n);
      const page = await first.gql<Patients>(PATIENTS, { first: 1 }, auth(clinics[theirs]));
      const cursor = page.body.data!.patients.pageInfo.endCursor;
      const misuse = await second.gql(PATIENTS, { first: 5, after: cursor }, auth(clinics[mine]));
      expect(misuse.body.errors?.[0]?.extensions?.code, second.name).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(misuse.body)).not.toContain(clinics[theirs].marker);
      const next = await second.gql<Patients>(PATIENTS, { first: 5, after: cursor }, auth(clinics[theirs]));
      expect(next.body.errors, second.name).toBeUndefined();
      expect(next.body.data!.patients.edges.every((edge) => edge.node.mrn.startsWith(clinics[theirs].marker))).toBe(true);
    }
  });

  it('a suspension made through process A is enforced by process B within 1 s; the other clinics are untouched', async () => {
    const ask = async (server: Server, clinic: Clinic) => {
      const result = await server.gql(PATIENTS, { first: 1 }, auth(clinic));
      return { status: result.status, code: result.body.errors?.[0]?.extensions?.code ?? null };
    };
    // Process B has every clinic cached (long TTL): only the event can change its mind.
    for (const clinic of Object.values(clinics)) expect(await ask(servers[1], clinic)).toEqual({ status: 200, code: null });

    const target = clinics.a2;
    await processA.tenancy.central.query("UPDATE tenants SET status = 'SUSPENDED', updated_at = now() WHERE id = $1", [target.id]);
    try {
      const started = performance.now();
      await processA.runtime.events.publish({ type: 'TenantStatusChanged', tenantId: target.id, from: 'ACTIVE', to: 'SUSPENDED' });
      let seenAfter: number | undefined;
      while (performance.now() - started < 5_000) {
        const answer = await ask(servers[1], target);
        if (answer.code === 'TENANT_SUSPENDED') {
          expect(answer.status).toBe(403);
          seenAfter = performance.now() - started;
          break;
        }
        expect(answer).toEqual({ status: 200, code: null });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(seenAfter, 'process B still served the suspended clinic after 5 s').toBeDefined();
      expect(seenAfter!).toBeLessThan(1_000);
      expect(await ask(servers[0], target)).toEqual({ status: 403, code: 'TENANT_SUSPENDED' });
      for (const clinic of [clinics.a1, clinics.b1, clinics.b2]) {
        for (const server of servers) expect(await ask(server, clinic), `${server.name} ${clinic.marker}`).toEqual({ status: 200, code: null });
      }
    } finally {
      await processA.tenancy.central.query("UPDATE tenants SET status = 'ACTIVE', updated_at = now() WHERE id = $1", [target.id]);
      await processA.runtime.events.publish({ type: 'TenantStatusChanged', tenantId: target.id, from: 'SUSPENDED', to: 'ACTIVE' });
    }
    const back = performance.now();
    while ((await ask(servers[1], target)).code !== null && performance.now() - back < 5_000) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await ask(servers[1], target)).toEqual({ status: 200, code: null });
  });
});
