/**
 * `tenantgraph tenants:run` over 20 tenants, as a separate process: each tenant's run sees only
 * its own data, the summary counts what happened, and exit codes mean done / failed / bad usage.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

let app: TestApp;
let clinics: ProvisionedTenant[];
const system = { kind: 'system', actor: 'test:tenants-run' } as const;


beforeAll(async () => {
  app = await startTestApp();
  const { groups } = await makeHierarchy(app.tenancy, 1);
  clinics = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, (i) =>
    makeClinic(app.tenancy, groups[0]!, i % 5 === 0 ? 'DATABASE' : 'SCHEMA', { clusterYears: [], prefix: 'run' }),
  );
  for (const clinic of clinics) {
    await app.runtime.scopes.runInTenant(clinic.id, system, (context) =>
      context.db.tenant().patient.create({ data: { mrn: `mrn-${clinic.slug}`, firstName: 'Run', lastName: clinic.slug } }),
    );
  }
});
afterAll(() => app?.stop());

describe('tenantgraph tenants:run', () => {
  it('runs the module once in each of 20 tenants, each seeing only its own data (--json, exit 0)', async () => {
    const slugs = clinics.map((clinic) => clinic.slug);
    const result = await runCli(['tenants:run', '--tenants', slugs.join(','), '--parallel', '4', '--json', '--', 'test/fixtures/tenant-report.ts']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { ok: boolean; total: number; done: number; failed: number; items: { slug: string; status: string; result: { slug: string; mrns: string[] } }[] };
    expect(summary).toMatchObject({ ok: true, total: 20, done: 20, failed: 0 });
    for (const item of summary.items) {
      expect(item.result.slug).toBe(item.slug);
      expect(item.result.mrns).toEqual([`mrn-${item.slug}`]);
    }
    const written = await readFile(path.join(inject('storageDir'), 'tenants', clinics[3]!.id, 'reports', 'last-run.txt'), 'utf8');
    expect(written).toBe(`${clinics[3]!.slug}:mrn-${clinics[3]!.slug}`);
  });

  it('goes on past a failing tenant, reports it, and exits 1', async () => {
    const slugs = clinics.slice(0, 5).map((clinic) => clinic.slug);
    const result = await runCli(['tenants:run', '--tenants', slugs.join(','), '--', 'test/fixtures/tenant-report.ts'], { FAIL_SLUG: slugs[2]! });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('4 done, 1 failed of 5 tenants');
    expect(result.stdout).toContain(`failing on purpose in ${slugs[2]}`);
  });

  it('exits 2 on bad usage: no selection, an unknown slug, a missing module', async () => {
    expect((await runCli(['tenants:run', '--', 'test/fixtures/tenant-report.ts'])).code).toBe(2);
    const unknown = await runCli(['tenants:run', '--tenants', 'no-such-tenant-anywhere', '--', 'test/fixtures/tenant-report.ts']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no-such-tenant-anywhere');
    expect((await runCli(['tenants:run', '--all', '--', 'test/fixtures/missing-module.ts'])).code).toBe(2);
    expect((await runCli(['tenants:run', '--all', '--parallel', 'zero', '--', 'test/fixtures/tenant-report.ts'])).code).toBe(2);
  });
});
