/**
 * The one way into a tenant's context outside HTTP: runInTenant enters every bootstrapper, keeps
 * the context in AsyncLocalStorage, and releases it whatever the function does. Per-tenant files
 * stay inside their tenant's root.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { currentTenantContext } from '../../src/tenancy/bootstrappers/index.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

let app: TestApp;
let clinics: (ProvisionedTenant & { marker: string })[];
const system = { kind: 'system', actor: 'test:tenant-scopes' } as const;

beforeAll(async () => {
  app = await startTestApp();
  const { groups } = await makeHierarchy(app.tenancy, 1);
  const made = await mapLimit(Array.from({ length: 10 }, (_, i) => i), 4, (i) => makeClinic(app.tenancy, groups[0]!, i % 3 === 0 ? 'DATABASE' : 'SCHEMA', { clusterYears: [] }));
  clinics = made.map((clinic, i) => ({ ...clinic, marker: `M${i}` }));
  // Each clinic gets one patient whose MRN is its marker, and one file holding it.
  for (const clinic of clinics) {
    await app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
      await context.db.tenant().patient.create({ data: { mrn: clinic.marker, firstName: 'Only', lastName: clinic.marker } });
      await context.files.write('notes/marker.txt', clinic.marker);
    });
  }
});
afterAll(() => app?.stop());

describe('runInTenant', () => {
  it('gives 200 interleaved runs over 10 tenants only their own database, files and logger binding', async () => {
    const runs = Array.from({ length: 200 }, (_, i) => clinics[i % clinics.length]!);
    const seen = await mapLimit(runs, 25, (clinic) =>
      app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        const patients = await context.db.tenant().patient.findMany();
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        const file = (await context.files.read('notes/marker.txt')).toString();
        const fromStorage = currentTenantContext();
        return {
          expected: clinic.marker,
          mrns: patients.map((p) => p.mrn),
          file,
          alsTenant: fromStorage?.scope.level === 'TENANT' ? fromStorage.scope.tenant.id : null,
          loggedTenant: context.logger.bindings().tenantId as unknown,
          id: clinic.id,
        };
      }),
    );
    for (const run of seen) {
      expect(run.mrns).toEqual([run.expected]);
      expect(run.file).toBe(run.expected);
      expect(run.alsTenant).toBe(run.id);
      expect(run.loggedTenant).toBe(run.id);
    }
  });

  it('releases every handle when the function throws, and the error reaches the caller', async () => {
    let captured: { db: unknown } | undefined;
    const failing = app.runtime.scopes.runInTenant(clinics[0]!.id, system, async (context) => {
      captured = context;
      await context.db.tenant().patient.count();
      throw new Error('boom inside the tenant');
    });
    await expect(failing).rejects.toThrow('boom inside the tenant');
    // A released scope hands out no new handles; the ALS context is gone outside.
    expect(() => (captured as { db: unknown }).db).not.toThrow(); // the db handle was made before the throw
    expect(() => (captured as unknown as { files: unknown }).files).toThrow(/released/);
    expect(currentTenantContext()).toBeUndefined();
  });

  it('refuses an unknown tenant with TENANT_NOT_FOUND and runs nothing', async () => {
    let ran = false;
    await expect(
      app.runtime.scopes.runInTenant('00000000-0000-4000-8000-000000000000', system, async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    expect(ran).toBe(false);
  });

  it('a central scope has no tenant files or cache', async () => {
    await app.runtime.scopes.runCentral(system, async (context) => {
      expect(() => context.files).toThrow(/belongs to a tenant/);
      expect(await context.db.central().tenant.count()).toBeGreaterThan(0);
    });
  });
});

describe('tenant files', () => {
  it('refuses traversal, absolute paths and symlinks out of the tenant root', async () => {
    const [a, b] = [clinics[0]!, clinics[1]!];
    const storageDir = inject('storageDir');
    // A link inside a's root pointing at b's root, and a dangling one pointing outside.
    const aRoot = path.join(storageDir, 'tenants', a.id);
    await mkdir(aRoot, { recursive: true });
    await symlink(path.join(storageDir, 'tenants', b.id), path.join(aRoot, 'to-b'));
    await symlink('/tmp/tenantgraph-nowhere-' + Math.random().toString(36).slice(2), path.join(aRoot, 'dangling'));
    await writeFile(path.join(storageDir, 'outside.txt'), 'secret of nobody');
    await app.runtime.scopes.runInTenant(a.id, system, async ({ files }) => {
      for (const bad of ['../outside.txt', '../../outside.txt', `../${b.id}/notes/marker.txt`, '/etc/passwd', 'notes/../../x', 'a//b', 'a\\b', 'a\0b', '']) {
        await expect(files.read(bad), bad).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      }
      await expect(files.read('to-b/notes/marker.txt')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(files.write('to-b/planted.txt', 'x')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(files.write('dangling', 'x')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      expect((await files.read('notes/marker.txt')).toString()).toBe(clinics[0]!.marker);
    });
    await app.runtime.scopes.runInTenant(b.id, system, async ({ files }) => {
      expect(await files.list()).toEqual(['notes']);
    });
  });

  it('removes a tenant root and nothing else', async () => {
    const [c, d] = [clinics[2]!, clinics[3]!];
    await app.runtime.files.removeTenant(c.id);
    await app.runtime.scopes.runInTenant(c.id, system, async ({ files }) => expect(await files.exists('notes/marker.txt')).toBe(false));
    await app.runtime.scopes.runInTenant(d.id, system, async ({ files }) => expect(await files.exists('notes/marker.txt')).toBe(true));
  });
});
