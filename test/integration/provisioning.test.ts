import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.js';
import { provisionTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
});
afterAll(() => app?.stop());

const countTenants = async (where: string, values: unknown[]) =>
  (await app.tenancy.central.query<{ n: number }>(`SELECT count(*)::int AS n FROM tenants WHERE ${where}`, values)).rows[0]!.n;

describe('provisionTenant', () => {
  it('creates storage per isolation mode with current-year cluster schemas, and marks the tenant ACTIVE', async () => {
    const year = new Date().getUTCFullYear();
    for (const isolation of ['DATABASE', 'SCHEMA'] as const) {
      const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, isolation);
      const strategy = app.tenancy.strategyFor(clinic);
      expect(await strategy.exists(clinic)).toBe(true);
      for (const module of ['emr', 'pos', 'scm'] as const) expect(await app.tenancy.clusterExists(clinic, module, year)).toBe(true);
      expect(await app.tenancy.clusterExists(clinic, 'emr', year - 1)).toBe(false);
      const row = await app.tenancy.central.query('SELECT status, database_name, schema_name FROM tenants WHERE id = $1', [clinic.id]);
      expect(row.rows[0].status).toBe('ACTIVE');
      if (isolation === 'DATABASE') expect(row.rows[0].database_name).toMatch(/^t_r[a-z0-9]{6}_db_/);
      else expect(row.rows[0].schema_name).toMatch(/^t_r[a-z0-9]{6}_sc_/);
    }
  });

  it('refuses keys that would name another tenant\'s cluster schema or the template database', async () => {
    for (const key of ['clinic_emr_2026', 'x_pos_1999', 'tpl_0123456789', 'tpl_any']) {
      const slug = uniqueKey('reserved').replace(/_/g, '-');
      await expect(
        provisionTenant(app.tenancy, { level: 'TENANT', parentId: hierarchy.groups[0]!.id, key, slug, name: 'Reserved', isolation: 'SCHEMA' }),
      ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'key' } });
    }
    // The database says the same, whoever writes the row.
    await expect(
      app.tenancy.central.query("INSERT INTO tenants (level, parent_id, key, slug, name) VALUES ('TENANT', $1, 'a_emr_2026', $2, 'x')", [
        hierarchy.groups[0]!.id,
        uniqueKey('reserved').replace(/_/g, '-'),
      ]),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it("dropping SCHEMA tenant x drops exactly x's schemas, not those of a tenant keyed x_<more>", async () => {
    const base = uniqueKey('nest');
    const group = hierarchy.groups[0]!;
    const x = await provisionTenant(app.tenancy, { level: 'TENANT', parentId: group.id, key: base, slug: base.replace(/_/g, '-'), name: 'X', isolation: 'SCHEMA' });
    const xy = await provisionTenant(app.tenancy, { level: 'TENANT', parentId: group.id, key: `${base}_y`, slug: `${base}-y`.replace(/_/g, '-'), name: 'XY', isolation: 'SCHEMA' });
    const year = new Date().getUTCFullYear();
    await app.tenancy.strategyFor(x).dropStorage(x);
    expect(await app.tenancy.strategyFor(x).exists(x)).toBe(false);
    expect(await app.tenancy.strategyFor(xy).exists(xy)).toBe(true);
    expect(await app.tenancy.clusterExists(xy, 'emr', year)).toBe(true);
  });

  it('refuses a key with SQL in it before anything is created', async () => {
    const slug = uniqueKey('evil').replace(/_/g, '-');
    for (const key of ['x"; DROP DATABASE postgres; --', 'Robert', 'a', `a${'b'.repeat(41)}`, 'tenant-1']) {
      await expect(
        provisionTenant(app.tenancy, { level: 'TENANT', parentId: hierarchy.groups[0]!.id, key, slug, name: 'Evil' }),
      ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'key' } });
    }
    expect(await countTenants('slug = $1', [slug])).toBe(0);
  });

  it('refuses a wrong parent level, a missing parent and a duplicate slug', async () => {
    const key = uniqueKey('k');
    const slug = key.replace(/_/g, '-');
    const under = (parentId: string | null) => provisionTenant(app.tenancy, { level: 'TENANT', parentId, key, slug, name: 'X' });
    await expect(under(hierarchy.app.id)).rejects.toThrow(/parent of a TENANT must be an existing CENTRAL_TENANT/);
    await expect(under(null)).rejects.toThrow(/needs a parent CENTRAL_TENANT/);
    await expect(under('not-a-uuid')).rejects.toBeInstanceOf(AppError);
    await expect(
      provisionTenant(app.tenancy, { level: 'TENANT', parentId: hierarchy.groups[0]!.id, key: uniqueKey('k'), slug: hierarchy.app.slug, name: 'X' }),
    ).rejects.toMatchObject({ extensions: { code: 'CONFLICT', field: 'slug' } });
    expect(await countTenants('key = $1', [key])).toBe(0);
  });

  it('leaves nothing behind when a step fails halfway (storage or migrations done, then failure)', async () => {
    for (const failAfter of ['storage', 'migrations'] as const) {
      for (const isolation of ['DATABASE', 'SCHEMA'] as const) {
        const key = uniqueKey('fail');
        const input = { level: 'TENANT' as const, parentId: hierarchy.groups[0]!.id, key, slug: key.replace(/_/g, '-'), name: 'Fails', isolation, failAfter, domains: [`${key.replace(/_/g, '-')}.test`] };
        await expect(provisionTenant(app.tenancy, input)).rejects.toThrow(/failAfter/);
        const names = app.tenancy.strategyFor({ level: 'TENANT', isolation }).namesFor(key);
        expect(await countTenants('key = $1', [key])).toBe(0);
        expect((await app.tenancy.central.query('SELECT 1 FROM domains WHERE domain = $1', [`${key.replace(/_/g, '-')}.test`])).rowCount).toBe(0);
        const record = { id: 'x', level: 'TENANT' as const, key, isolation, ...names };
        expect(await app.tenancy.strategyFor(record).exists(record)).toBe(false);
      }
    }
  });

  it('provisions concurrently from the same template', async () => {
    const made = await Promise.all(Array.from({ length: 6 }, () => makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] })));
    expect(new Set(made.map((clinic) => clinic.databaseName)).size).toBe(6);
  });
});
