/**
 * The end of a soft delete: tenants past TENANT_DELETE_GRACE_DAYS are hard-deleted (storage, role,
 * row), children before parents, by the purge job's function and by `tenants:purge-deleted`;
 * tenants still within their grace period and live ones are untouched. Own central database:
 * a purge sweeps every aged tenant it can see, and other files age theirs to test restore.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { ownCentralDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

const SYSTEM = { kind: 'system' } as const;
let app: TestApp;
let centralUrl: string;
let hierarchy: Hierarchy;
let branch: Hierarchy;

beforeAll(async () => {
  centralUrl = await ownCentralDatabase('purge');
  app = await startTestApp({ DATABASE_URL: centralUrl, TENANT_DELETE_GRACE_DAYS: '30' });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  branch = await makeHierarchy(app.tenancy, 1);
});
afterAll(() => app?.stop());

const lifecycle = () => app.runtime.services.administration.lifecycle;
const age = (id: string, days: number) => app.central.pool.query(`UPDATE tenants SET deleted_at = now() - make_interval(days => $2::int) WHERE id = $1`, [id, days]);
const rowStatus = async (id: string) => (await app.central.pool.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [id])).rows[0]?.status ?? 'gone';
const databaseExists = async (name: string) => (await app.central.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
const roleExists = async (name: string | null | undefined) => name != null && (await app.central.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
const schemaExists = async (tenant: ProvisionedTenant) => {
  const shared = new pg.Client({ connectionString: Object.assign(new URL(centralUrl), { pathname: `/${tenant.databaseName}` }).toString() });
  await shared.connect();
  try {
    return (await shared.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [tenant.schemaName])).rowCount === 1;
  } finally {
    await shared.end();
  }
};
const roleOf = async (id: string) => (await app.central.pool.query<{ r: string | null }>('SELECT db_username AS r FROM tenants WHERE id = $1', [id])).rows[0]?.r;

describe('purging soft-deleted tenants past their grace period', () => {
  it('hard-deletes the aged ones (children first) and leaves recent deletions and live tenants alone', async () => {
    const aged = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
    const recent = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
    const live = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
    const branchClinic = await makeClinic(app.tenancy, branch.groups[0]!, 'SCHEMA', { clusterYears: [] });
    const agedRole = await roleOf(aged.id);
    const branchRole = await roleOf(branchClinic.id);
    expect(await roleExists(agedRole)).toBe(true);

    for (const tenant of [aged, recent, branchClinic]) await lifecycle().softDelete(SYSTEM, tenant.id);
    await lifecycle().softDelete(SYSTEM, branch.groups[0]!.id); // its only child is deleted
    await age(aged.id, 31);
    await age(recent.id, 29);
    // The group was deleted after its clinic, both long enough ago: one pass takes both, clinic first.
    await age(branchClinic.id, 45);
    await age(branch.groups[0]!.id, 40);

    const dryRun = await runCli(['tenants:purge-deleted', '--dry-run', '--json'], { DATABASE_URL: centralUrl });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const due = (JSON.parse(dryRun.stdout) as { due: { slug: string }[] }).due.map((t) => t.slug);
    expect(due).toEqual([branchClinic.slug, aged.slug, branch.groups[0]!.slug]);
    expect(await rowStatus(aged.id)).toBe('DELETED'); // a dry run changes nothing

    const report = await app.runtime.services.administration.purgeExpiredDeletions();
    expect(report.failed).toEqual([]);
    expect(report.purged.map((t) => t.slug)).toEqual([branchClinic.slug, aged.slug, branch.groups[0]!.slug]);

    expect(await rowStatus(aged.id)).toBe('gone');
    expect(await databaseExists(aged.databaseName!)).toBe(false);
    expect(await roleExists(agedRole)).toBe(false);
    expect(await rowStatus(branchClinic.id)).toBe('gone');
    expect(await rowStatus(branch.groups[0]!.id)).toBe('gone');
    expect(await schemaExists(branchClinic)).toBe(false);
    expect(await roleExists(branchRole)).toBe(false);
    // Within its grace period: still restorable, data kept.
    expect(await rowStatus(recent.id)).toBe('DELETED');
    expect(await schemaExists(recent)).toBe(true);
    await lifecycle().restore(SYSTEM, recent.id);
    expect(await rowStatus(recent.id)).toBe('ACTIVE');
    // Live neighbours are untouched.
    expect(await rowStatus(live.id)).toBe('ACTIVE');
    expect(await schemaExists(live)).toBe(true);

    // Nothing left to do: the command says so and exits 0.
    const again = await runCli(['tenants:purge-deleted', '--json'], { DATABASE_URL: centralUrl });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, purged: [], failed: [] });
  });
});
