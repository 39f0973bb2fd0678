/**
 * The typed example client (examples/client/) against the real server over HTTP: `npm run codegen`
 * generates its documents from schema.graphql, and the client lists patients, records a visit and
 * finds it again. The type-level block at the end is checked by `npm run typecheck`: it stops
 * compiling when schema.graphql and the generated types disagree with the client.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { type TenantgraphClient, type TenantgraphError } from '../../examples/client/client.js';
import { type ListPatientsQuery, type ListPatientsQueryVariables, type RecordVisitInput } from '../../examples/client/generated/graphql.js';
import { ErrorCode } from '../../src/errors/error-code.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATED = path.join(ROOT, 'examples/client/generated');

type CodegenRun = { ok: boolean; output: string };
let codegen: CodegenRun;
let app: TestApp;
let graphqlUrl: string;
let token: string;
/** This file's own clinic (other files create, suspend and delete tenants meanwhile). */
let clinicId: string;
const created: { id: string; lastName: string }[] = [];

/** `npm run codegen` in a child process, as CI and developers run it. */
function runCodegen(): Promise<CodegenRun> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'codegen'], { cwd: ROOT, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) =>
      resolve({ ok: error === null, output: `${stdout}${stderr}${error ? `\n${error.message}` : ''}` }),
    );
  });
}

beforeAll(async () => {
  // Codegen first: the client imports the generated documents, so it is loaded only afterwards.
  codegen = await runCodegen();
  app = await startTestApp();
  graphqlUrl = `${app.url}/graphql`;

  const hierarchy = await makeHierarchy(app.tenancy, 1);
  const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
  clinicId = clinic.id;
  token = await app.token({ subject: 'frontend-dev', tenantId: clinic.id, roles: ['admin'] });

  // Patients are created through GraphQL, as a frontend would.
  for (const [mrn, firstName, lastName] of [
    ['TC-1', 'Ada', 'Lovelace'],
    ['TC-2', 'Grace', 'Hopper'],
  ] as const) {
    const { status, body } = await app.gql<{ createPatient: { id: string; lastName: string } }>(
      'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id lastName } }',
      { input: { mrn, firstName, lastName } },
      { authorization: `Bearer ${token}` },
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(status).toBe(200);
    created.push(body.data!.createPatient);
  }
});
afterAll(() => app?.stop());

/** The example client module, loaded only once codegen has written the documents it imports. */
async function loadClient() {
  expect(codegen.ok, codegen.output).toBe(true);
  return import('../../examples/client/client.js');
}

async function client(options: { token?: string } = {}): Promise<TenantgraphClient> {
  const { makeClient } = await loadClient();
  return makeClient({ url: graphqlUrl, token: options.token ?? token });
}

describe('npm run codegen', () => {
  it('succeeds and writes the typed documents from schema.graphql', () => {
    expect(codegen.ok, codegen.output).toBe(true);
    for (const file of ['graphql.ts', 'gql.ts', 'index.ts']) expect(existsSync(path.join(GENERATED, file)), file).toBe(true);
    const generated = readFileSync(path.join(GENERATED, 'graphql.ts'), 'utf8');
    for (const name of ['ListPatientsDocument', 'RecordVisitDocument', 'VisitsOfYearDocument']) expect(generated).toContain(`export const ${name} =`);
    // Strict settings the root tsconfig needs: NodeNext `.js` imports and type-only imports.
    expect(readFileSync(path.join(GENERATED, 'index.ts'), 'utf8')).toContain('from "./gql.js"');
    expect(generated).toContain("import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core'");
  });
});

describe('the example client over HTTP', () => {
  it('lists the clinic patients with Relay-style page info', async () => {
    const api = await client();
    const page = await api.listPatients({ first: 10 });
    expect(page.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ id: created[1]!.id, lastName: 'Hopper', firstName: 'Grace', mrn: 'TC-2' }),
      expect.objectContaining({ id: created[0]!.id, lastName: 'Lovelace', firstName: 'Ada', mrn: 'TC-1' }),
    ]);
    expect(page.pageInfo.hasNextPage).toBe(false);

    const first = await api.listPatients({ first: 1 });
    expect(first.edges.map((edge) => edge.node.lastName)).toEqual(['Hopper']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: expect.any(String) });
    const second = await api.listPatients({ first: 1, after: first.pageInfo.endCursor });
    expect(second.edges.map((edge) => edge.node.lastName)).toEqual(['Lovelace']);
    expect(second.pageInfo.hasNextPage).toBe(false);

    const all: string[] = [];
    for await (const patient of api.eachPatient({ pageSize: 1 })) all.push(patient.lastName);
    expect(all).toEqual(['Hopper', 'Lovelace']);
  });

  it('records a visit for the first patient, and visits(year:) finds it', async () => {
    const api = await client();
    const patient = (await api.listPatients({ first: 1 })).edges[0]!.node;
    const visitedAt = new Date();
    const visit = await api.recordVisit({ patientId: patient.id, reason: 'Typed client check-up', visitedAt: visitedAt.toISOString() });
    expect(visit).toMatchObject({ patientId: patient.id, reason: 'Typed client check-up', notes: null });
    expect(new Date(visit.visitedAt).getTime()).toBe(visitedAt.getTime());

    const visits = await api.visitsOfYear({ year: visitedAt.getUTCFullYear() });
    expect(visits).toContainEqual({ id: visit.id, patientId: patient.id, visitedAt: visit.visitedAt, reason: 'Typed client check-up' });
    expect(await api.visitsOfYear({ year: visitedAt.getUTCFullYear(), patientId: created.find((p) => p.id !== patient.id)!.id })).toEqual([]);
  });

  it('runs main() end to end, as `npx tsx examples/client/main.ts` does', async () => {
    await loadClient();
    const { main } = await import('../../examples/client/main.js');
    const lines: string[] = [];
    const code = await main({ argv: ['--url', graphqlUrl], env: { TENANTGRAPH_TOKEN: token }, log: (line) => lines.push(line) });
    expect(code, lines.join('\n')).toBe(0);
    expect(lines[0]).toBe('Patients (first 2):');
    expect(lines).toContainEqual(expect.stringMatching(/^Recorded visit [0-9a-f-]{36} for Grace Hopper at /));
    expect(lines).toContainEqual(expect.stringMatching(/^Visits of Grace Hopper in \d{4}: [1-9]/));

    const missing: string[] = [];
    expect(await main({ argv: [], env: {}, log: (line) => missing.push(line) })).toBe(2);
    expect(missing[0]).toMatch(/No access token/);
  });

  it('turns GraphQL errors into TenantgraphError with the documented code', async () => {
    const { TenantgraphError: ErrorClass } = await loadClient();
    const failure = (await (await client({ token: 'not-a-token' })).listPatients({ first: 1 }).catch((error: unknown) => error)) as TenantgraphError;
    expect(failure).toBeInstanceOf(ErrorClass);
    expect(failure.code).toBe('UNAUTHENTICATED');
    expect(failure.status).toBe(401);
    expect(failure.requestId).toMatch(/\S/);

    const badInput = (await (await client()).listPatients({ first: 1000 }).catch((error: unknown) => error)) as TenantgraphError;
    expect(badInput).toBeInstanceOf(ErrorClass);
    expect(badInput.code).toBe('BAD_USER_INPUT');
  });

  it('knows every server error code, and docs/clients.md explains each', async () => {
    const { ERROR_CODES } = await loadClient();
    expect([...ERROR_CODES].sort()).toEqual(Object.values(ErrorCode).sort());
    const docs = readFileSync(path.join(ROOT, 'docs/clients.md'), 'utf8');
    for (const code of Object.values(ErrorCode)) expect(docs, code).toContain(`\`${code}\``);
  });
});

describe('the browser session example (examples/client/session.ts)', () => {
  it('signs in, refreshes once however many callers wait, and signs out', async () => {
    await loadClient();
    const { makeSession } = await import('../../examples/client/session.js');
    const { hashPassword } = await import('../../src/auth/passwords.js');
    const email = `browser-${Date.now()}@example.test`;
    const account = await app.central.pool.query<{ id: string }>(`INSERT INTO accounts (email, name, password_hash) VALUES ($1, 'Browser', $2) RETURNING id`, [
      email,
      await hashPassword('browser password 123'),
    ]);
    await app.central.pool.query(`INSERT INTO memberships (account_id, tenant_id, role) VALUES ($1, $2, 'admin')`, [account.rows[0]!.id, clinicId]);

    let clock = Date.now();
    const session = makeSession({ url: graphqlUrl, now: () => clock });
    expect(await session.signIn({ email, password: 'browser password 123' })).toEqual({ kind: 'signed-in' });
    const first = await session.accessToken();
    expect(await session.accessToken()).toBe(first); // still fresh: no refresh
    expect((await (await client({ token: first })).listPatients({ first: 1 })).edges.length).toBeGreaterThan(0);

    clock += 15 * 60_000; // near expiry: three concurrent callers share one refresh (no replay)
    const tokens = await Promise.all([session.accessToken(), session.accessToken(), session.accessToken()]);
    expect(new Set(tokens).size).toBe(1);
    clock += 15 * 60_000;
    expect(await session.accessToken()).toBeTruthy(); // the rotated refresh token works

    await session.signOut();
    await expect(session.accessToken()).rejects.toThrow(/Not signed in/);
  });
});

describe('types (checked by npm run typecheck, not at run time)', () => {
  it('ties variables and results to schema.graphql', () => {
    expectTypeOf<ListPatientsQueryVariables['first']>().toEqualTypeOf<number>();
    expectTypeOf<ListPatientsQuery['patients']['pageInfo']>().toEqualTypeOf<{ endCursor: string | null; hasNextPage: boolean }>();
    expectTypeOf<RecordVisitInput['visitedAt']>().toEqualTypeOf<string | null | undefined>();

    // Never called: each line must fail to compile, so a schema change that makes one compile
    // (and leaves its @ts-expect-error unused) fails the typecheck.
    const wrongCalls = (api: TenantgraphClient) => [
      // @ts-expect-error `first` is an Int! in schema.graphql.
      api.listPatients({ first: 'ten' }),
      // @ts-expect-error recordVisit's input needs a patientId.
      api.recordVisit({ reason: 'no patient' }),
      // @ts-expect-error `visits` needs a year.
      api.visitsOfYear({ patientId: 'p1' }),
    ];
    expect(wrongCalls).toBeTypeOf('function');
  });
});
