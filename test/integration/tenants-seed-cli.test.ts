/**
 * `tenantgraph tenants:seed` in a child process: seeders run in order inside each tenant's context
 * (each tenant gets its own rows only), a rerun is idempotent, time and memory are reported per
 * seeder, and unknown seeders are bad usage that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
let clinics: ProvisionedTenant[];
const system = { kind: 'system', actor: 'test:seed' } as const;
const year = new Date().getUTCFullYear();


const countsOf = (clinic: ProvisionedTenant) =>
  app.runtime.scopes.runInTenant(clinic.id, system, async (context) => ({
    patients: await context.db.tenant().patient.count({ where: { mrn: { startsWith: 'DEMO-' } } }),
    visits: await context.db.cluster('emr', year).visit.count(),
  }));

beforeAll(async () => {
  app = await startTestApp();
  const { groups } = await makeHierarchy(app.tenancy, 1);
  clinics = [
    await makeClinic(app.tenancy, groups[0]!, 'SCHEMA', { clusterYears: [year], prefix: 'sd' }),
    await makeClinic(app.tenancy, groups[0]!, 'DATABASE', { clusterYears: [year], prefix: 'sd' }),
    await makeClinic(app.tenancy, groups[0]!, 'SCHEMA', { clusterYears: [year], prefix: 'sd' }),
  ];
}, 120_000);
afterAll(() => app?.stop());

describe('tenantgraph tenants:seed', { timeout: 120_000 }, () => {
  it('runs the seeders in order in each named tenant, reports time and memory, and a rerun changes nothing', async () => {
    const slugs = clinics.slice(0, 2).map((clinic) => clinic.slug).join(',');
    const first = await runCli(['tenants:seed', '--tenants', slugs, '--seeder', 'demo-patients,demo-visits', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { done: number; items: { result: { seeder: string; ms: number; heapDeltaBytes: number; rssBytes: number; result: { created: number } }[] }[] };
    expect(summary.done).toBe(2);
    for (const item of summary.items) {
      expect(item.result.map((report) => report.seeder)).toEqual(['demo-patients', 'demo-visits']);
      expect(item.result.map((report) => report.result.created)).toEqual([5, 5]);
      for (const report of item.result) {
        expect(report.ms).toBeGreaterThanOrEqual(0);
        expect(typeof report.heapDeltaBytes).toBe('number');
        expect(report.rssBytes).toBeGreaterThan(0);
      }
    }
    for (const clinic of clinics.slice(0, 2)) expect(await countsOf(clinic)).toEqual({ patients: 5, visits: 5 });
    expect(await countsOf(clinics[2]!)).toEqual({ patients: 0, visits: 0 });

    const again = await runCli(['tenants:seed', '--tenants', slugs, '--seeder', 'demo-patients,demo-visits', '--json']);
    expect(again.code).toBe(0);
    for (const clinic of clinics.slice(0, 2)) expect(await countsOf(clinic)).toEqual({ patients: 5, visits: 5 });
  });

  it('refuses unknown seeders with exit 2 before touching any tenant', async () => {
    const result = await runCli(['tenants:seed', '--tenants', clinics[2]!.slug, '--seeder', 'demo-patients,no-such-seeder']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-seeder');
    expect(await countsOf(clinics[2]!)).toEqual({ patients: 0, visits: 0 });
  });
});
