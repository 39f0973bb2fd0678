/**
 * `tenants:backup` then `tenants:restore`, as the operator runs them (a separate process), for a
 * DATABASE and a SCHEMA tenant: the rows come back as they were at backup time, the server serves
 * the restored data, a corrupt file or another tenant's file changes nothing.
 */
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
let clinics: Record<'db' | 'schema', ProvisionedTenant>;
const system = { kind: 'system', actor: 'test:backups' } as const;


const mrnsOf = (clinic: ProvisionedTenant) =>
  app.runtime.scopes.runInTenant(clinic.id, system, async (context) => (await context.db.tenant().patient.findMany({ orderBy: { mrn: 'asc' } })).map((p) => p.mrn));

async function mrnsOverHttp(clinic: ProvisionedTenant): Promise<string[]> {
  const token = await app.token({ subject: 'backup-admin', tenantId: clinic.id, roles: ['admin'] });
  const result = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>('{ patients(first: 100) { edges { node { mrn } } } }', {}, { authorization: `Bearer ${token}` });
  expect(result.body.errors, JSON.stringify(result.body.errors)).toBeUndefined();
  return result.body.data!.patients.edges.map((edge) => edge.node.mrn).sort();
}

beforeAll(async () => {
  app = await startTestApp();
  const { groups } = await makeHierarchy(app.tenancy, 1);
  clinics = {
    db: await makeClinic(app.tenancy, groups[0]!, 'DATABASE', { prefix: 'bak' }),
    schema: await makeClinic(app.tenancy, groups[0]!, 'SCHEMA', { prefix: 'bak' }),
  };
  for (const clinic of Object.values(clinics)) {
    await app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
      for (const n of [1, 2, 3]) await context.db.tenant().patient.create({ data: { mrn: `${clinic.slug}-${n}`, firstName: 'Kept', lastName: `P${n}` } });
    });
  }
});
afterAll(() => app?.stop());

describe('tenants:backup and tenants:restore', () => {
  it('round-trips the rows of a DATABASE and a SCHEMA tenant, and the server serves the restored data', async () => {
    const backup = await runCli(['tenants:backup', '--tenants', `${clinics.db.slug},${clinics.schema.slug}`, '--json']);
    expect(backup.stderr + backup.stdout).toBe(backup.stdout);
    expect(backup.code).toBe(0);
    const summary = JSON.parse(backup.stdout) as { done: number; items: { slug: string; result: { file: string; bytes: number } }[] };
    expect(summary.done).toBe(2);
    const files = new Map(summary.items.map((item) => [item.slug, item.result.file]));
    for (const file of files.values()) expect(file).toMatch(/backups\/bak-[0-9a-f]+\/\d{8}T\d{6}Z\.dump$/);

    for (const clinic of Object.values(clinics)) {
      const before = await mrnsOf(clinic);
      // Changes after the backup: one patient more, one less.
      await app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
        await context.db.tenant().patient.create({ data: { mrn: `${clinic.slug}-after`, firstName: 'Later', lastName: 'Added' } });
        await context.db.tenant().patient.deleteMany({ where: { mrn: `${clinic.slug}-1` } });
      });
      expect(await mrnsOf(clinic)).not.toEqual(before);

      const restored = await runCli(['tenants:restore', '--tenant', clinic.slug, '--file', files.get(clinic.slug)!, '--json']);
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({ ok: true, tenant: clinic.slug });
      // The CLI told every process (Redis pub/sub); give the server's directory a moment.
      await expect.poll(() => mrnsOverHttp(clinic), { timeout: 2000 }).toEqual(before);
    }
  });

  it('refuses a corrupt file and another tenant\'s file, leaving the tenant on its data', async () => {
    const backup = await runCli(['tenants:backup', '--tenants', clinics.db.slug, '--json']);
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    const file = (JSON.parse(backup.stdout) as { items: { result: { file: string } }[] }).items[0]!.result.file;
    const before = await mrnsOf(clinics.db);
    // This tenant's databases (other suites create and drop theirs on the same server meanwhile).
    const databases = async () =>
      (await app.tenancy.central.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE starts_with(datname, $1)', [`${app.tenancy.naming.tenantStorage(clinics.db.key)}`])).rows[0]!.n;
    const databasesBefore = await databases();

    const other = await runCli(['tenants:restore', '--tenant', clinics.schema.slug, '--file', file]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`is a backup of tenant ${clinics.db.slug}`);

    const handle = await open(file, 'r+');
    await handle.write(Buffer.from('garbage!'), 0, 8, 200);
    await handle.close();
    const corrupt = await runCli(['tenants:restore', '--tenant', clinics.db.slug, '--file', file]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain('is corrupt');
    expect(await mrnsOf(clinics.db)).toEqual(before);
    expect(await databases()).toBe(databasesBefore);
  });
});
