/**
 * migrateTenants / migrationRun over HTTP: system admins only; the run goes on in the background of
 * the server and its progress is read back from the central run tables.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let before: TestApp;
let app: TestApp;
let dir: string;
let hierarchy: Hierarchy;
let clinics: ProvisionedTenant[];

const MIGRATE = 'mutation($input: MigrateTenantsInput!) { migrateTenants(input: $input) { id status total } }';
const RUN = `query($id: ID!) { migrationRun(id: $id) { id status total done failed pending
  items(first: 10) { cursor tenantSlug status error applied tenant { slug } } } }`;

type Run = { id: string; status: string; total: number; done: number; failed: number; items: { tenantSlug: string; status: string; applied: string[]; tenant: { slug: string } | null }[] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tg-fleet-gql-'));
  await cp('migrations', dir, { recursive: true });
  // Tenants made with the current files; the server under test reads one more tenant file.
  before = await startTestApp({ MIGRATIONS_DIR: dir });
  hierarchy = await makeHierarchy(before.tenancy, 1);
  clinics = [];
  for (const isolation of ['SCHEMA', 'SCHEMA', 'DATABASE'] as const) clinics.push(await makeClinic(before.tenancy, hierarchy.groups[0]!, isolation, { clusterYears: [], prefix: 'fg' }));
  await before.stop();
  await writeFile(path.join(dir, 'tenant', '0002_flag.sql'), 'ALTER TABLE patients ADD COLUMN flagged boolean NOT NULL DEFAULT false;\nCREATE INDEX patients_flagged_idx ON patients (flagged);\n');
  app = await startTestApp({ MIGRATIONS_DIR: dir });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('migrateTenants', () => {
  it('is refused to a tenant admin and to anonymous callers, and records nothing', async () => {
    const admin = await app.token({ subject: 'clinic-admin', tenantId: clinics[0]!.id, roles: ['admin'] });
    const denied = await app.gql(MIGRATE, { input: { tenants: [hierarchy.app.slug] } }, { authorization: `Bearer ${admin}`, 'x-tenant': clinics[0]!.slug });
    expect(denied.body.errors![0]!.extensions!.code).toMatch(/FORBIDDEN|TENANT_CONTEXT_REQUIRED|UNAUTHENTICATED/);
    const anonymous = await app.gql(MIGRATE, { input: { tenants: [hierarchy.app.slug] } });
    expect(anonymous.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const { rows } = await app.tenancy.central.query(
      'SELECT 1 FROM migration_run_items WHERE tenant_id = ANY($1::uuid[])',
      [clinics.map((clinic) => clinic.id)],
    );
    expect(rows).toEqual([]);
  });

  it('rejects unknown slugs and bad parallelism with BAD_USER_INPUT', async () => {
    const root = await app.token({ subject: 'root', tenantId: null, roles: ['system_admin'] });
    const unknown = await app.gql(MIGRATE, { input: { tenants: ['no-such-tenant-here'] } }, { authorization: `Bearer ${root}` });
    expect(unknown.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenants' });
    const parallel = await app.gql(MIGRATE, { input: { parallel: 0 } }, { authorization: `Bearer ${root}` });
    expect(parallel.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parallel' });
    const missing = await app.gql(RUN, { id: '00000000-0000-0000-0000-000000000000' }, { authorization: `Bearer ${root}` });
    expect(missing.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('migrates the subtree in the background; migrationRun reports progress to DONE', async () => {
    const root = await app.token({ subject: 'root', tenantId: null, roles: ['system_admin'] });
    const started = await app.gql<{ migrateTenants: { id: string; status: string; total: number } }>(
      MIGRATE,
      { input: { tenants: [hierarchy.app.slug], level: 'TENANT', parallel: 2 } },
      { authorization: `Bearer ${root}` },
    );
    expect(started.body.errors).toBeUndefined();
    expect(started.body.data!.migrateTenants).toMatchObject({ status: 'RUNNING', total: 3 });
    let run: Run | undefined;
    for (let i = 0; i < 200; i++) {
      const polled = await app.gql<{ migrationRun: Run }>(RUN, { id: started.body.data!.migrateTenants.id }, { authorization: `Bearer ${root}` });
      expect(polled.body.errors).toBeUndefined();
      run = polled.body.data!.migrationRun;
      if (run.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run).toMatchObject({ status: 'DONE', total: 3, done: 3, failed: 0 });
    expect(run!.items.map((item) => item.tenantSlug).sort()).toEqual(clinics.map((clinic) => clinic.slug).sort());
    for (const item of run!.items) {
      expect(item.status).toBe('DONE');
      expect(item.applied).toEqual([expect.stringMatching(/^tenant:\S+ 0002_flag\.sql$/)]);
      expect(item.tenant!.slug).toBe(item.tenantSlug);
    }
  });
});
