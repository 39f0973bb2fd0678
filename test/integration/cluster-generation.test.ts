/**
 * Cluster schemas on demand and on time: generateClusterSchemas / clusterSchemas over HTTP (subtree
 * semantics, who may ask, idempotence), writes into the new year working once READY, the yearly
 * step with an injected clock, and `tenantgraph clusters:generate` in a child process.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareNextYear } from '../../src/tenancy/clusters/cluster-generation.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';
import { nodeArgs } from '../helpers/entry.js';

let app: TestApp;
let hierarchy: Hierarchy;
let a: ProvisionedTenant;
let b: ProvisionedTenant;
let c: ProvisionedTenant;
const year = new Date().getUTCFullYear();
const next = year + 1;

const GENERATE = 'mutation($tenantId: ID!, $year: Int!, $modules: [ClusterModule!]) { generateClusterSchemas(tenantId: $tenantId, year: $year, modules: $modules) { tenantSlug module year status } }';
const LIST = 'query($tenantId: ID!) { clusterSchemas(tenantId: $tenantId) { tenantSlug module year status error } }';
type Row = { tenantSlug: string; module: string; year: number; status: string };

async function bearer(tenantId: string | null, roles: string[]) {
  return { authorization: `Bearer ${await app.token({ subject: 'cluster-tester', tenantId, roles })}` };
}

async function waitReady(tenantId: string, headers: Record<string, string>, expected: number): Promise<Row[]> {
  for (let i = 0; i < 300; i++) {
    const listed = await app.gql<{ clusterSchemas: Row[] }>(LIST, { tenantId }, headers);
    expect(listed.body.errors).toBeUndefined();
    const rows = listed.body.data!.clusterSchemas.filter((row) => row.year === next);
    if (rows.length === expected && rows.every((row) => row.status === 'READY')) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('cluster schemas did not become READY');
}

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 2);
  a = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [year], prefix: 'cg' });
  b = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [year], prefix: 'cg' });
  c = await makeClinic(app.tenancy, hierarchy.groups[1]!, 'SCHEMA', { clusterYears: [year], prefix: 'cg' });
}, 120_000);
afterAll(() => app?.stop());

describe('generateClusterSchemas', () => {
  it("a group admin makes next year's schemas for every clinic of the group; writes into that year then work", async () => {
    const clinicAdmin = await bearer(a.id, ['admin']);
    const patient = await app.gql<{ createPatient: { id: string } }>('mutation { createPatient(input: { mrn: "cg-1", firstName: "N", lastName: "Y" }) { id } }', {}, clinicAdmin);
    const visit = { input: { patientId: patient.body.data!.createPatient.id, visitedAt: `${next}-01-02T10:00:00Z` } };
    const RECORD = 'mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }';
    expect((await app.gql(RECORD, visit, clinicAdmin)).body.errors![0]!.extensions!.code).toBe('CLUSTER_NOT_READY');

    const groupAdmin = await bearer(hierarchy.groups[0]!.id, ['admin']);
    const started = await app.gql<{ generateClusterSchemas: Row[] }>(GENERATE, { tenantId: hierarchy.groups[0]!.id, year: next }, groupAdmin);
    expect(started.body.errors).toBeUndefined();
    const requested = started.body.data!.generateClusterSchemas.filter((row) => row.year === next);
    expect(new Set(requested.map((row) => row.tenantSlug))).toEqual(new Set([a.slug, b.slug]));
    const rows = await waitReady(hierarchy.groups[0]!.id, groupAdmin, 6);
    expect(rows.map((row) => `${row.tenantSlug}:${row.module}`).sort()).toEqual([a, b].flatMap((t) => ['emr', 'pos', 'scm'].map((m) => `${t.slug}:${m.toUpperCase()}`)).sort());
    for (const clinic of [a, b]) expect(await app.tenancy.clusterExists(clinic, 'emr', next)).toBe(true);
    expect(await app.tenancy.clusterExists(c, 'emr', next)).toBe(false);

    expect((await app.gql(RECORD, visit, clinicAdmin)).body.errors).toBeUndefined();
    // One durable job per clinic and year did the work.
    for (const clinic of [a, b]) {
      const page = await app.runtime.jobs.list({ name: 'cluster.generate', tenantId: clinic.id }, 10);
      expect(page.jobs.map((job) => job.record)).toEqual([expect.objectContaining({ state: 'completed', singletonKey: `${clinic.id}:${next}` })]);
    }

    const again = await app.gql<{ generateClusterSchemas: Row[] }>(GENERATE, { tenantId: hierarchy.groups[0]!.id, year: next }, groupAdmin);
    expect(again.body.data!.generateClusterSchemas.filter((row) => row.year === next).every((row) => row.status === 'READY')).toBe(true);
  });

  it("refuses another group's clinic, a member without the admin role, and anonymous callers; creates nothing", async () => {
    const groupAdmin = await bearer(hierarchy.groups[0]!.id, ['admin']);
    const foreign = await app.gql(GENERATE, { tenantId: c.id, year: next }, groupAdmin);
    expect(foreign.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const listForeign = await app.gql(LIST, { tenantId: c.id }, groupAdmin);
    expect(listForeign.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const member = await app.gql(GENERATE, { tenantId: a.id, year: next }, await bearer(a.id, ['member']));
    expect(member.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await app.gql(GENERATE, { tenantId: a.id, year: next })).body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const { rows } = await app.tenancy.central.query('SELECT 1 FROM cluster_schemas WHERE tenant_id = $1 AND year = $2', [c.id, next]);
    expect(rows).toEqual([]);
  });

  it('rejects years outside CLUSTER_YEARS_MIN..next year and unknown tenants', async () => {
    const root = await bearer(null, ['system_admin']);
    for (const bad of [1999, year + 2]) {
      const result = await app.gql(GENERATE, { tenantId: c.id, year: bad }, root);
      expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'year' });
    }
    expect((await app.gql(GENERATE, { tenantId: '00000000-0000-0000-0000-000000000000', year: next }, root)).body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });
});

describe('the yearly step (injected clock)', () => {
  it('does nothing before 1 December, then makes next year’s schemas for every clinic not ready', async () => {
    const options = { from: { month: 12, day: 1 }, parallel: 2, within: hierarchy.app.id };
    expect(await prepareNextYear(app.tenancy, { ...options, now: new Date(`${year}-11-30T23:59:00Z`) })).toEqual({ due: false });
    expect(await app.tenancy.clusterExists(c, 'pos', next)).toBe(false);
    const result = await prepareNextYear(app.tenancy, { ...options, now: new Date(`${year}-12-01T00:00:00Z`) });
    // a and b are already READY for next year: only c is attempted.
    expect(result).toEqual({ due: true, year: next, attempted: 1, failed: [] });
    for (const module of ['emr', 'pos', 'scm'] as const) expect(await app.tenancy.clusterExists(c, module, next)).toBe(true);
    expect(await prepareNextYear(app.tenancy, { ...options, now: new Date(`${year}-12-02T03:00:00Z`) })).toEqual({ due: true, year: next, attempted: 0, failed: [] });
  });
});

describe('tenantgraph clusters:generate', () => {
  it('makes the schemas of a group’s clinics with --modules, and exits 2 on bad usage', { timeout: 120_000 }, async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, nodeArgs('src/cli/main.ts', ...args), {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv(), LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const made = await run(['clusters:generate', '--tenant', hierarchy.groups[1]!.slug, '--year', String(year - 1), '--modules', 'pos', '--json']);
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ ok: true, total: 1, done: 1, failed: 0 });
    expect(await app.tenancy.clusterExists(c, 'pos', year - 1)).toBe(true);
    expect(await app.tenancy.clusterExists(c, 'emr', year - 1)).toBe(false);
    expect((await run(['clusters:generate', '--all', '--tenant', c.slug, '--year', String(next)])).code).toBe(2);
    expect((await run(['clusters:generate', '--tenant', c.slug, '--year', String(year + 5)])).code).toBe(2);
  });
});
