/**
 * createTenant as a durable job, over HTTP against real PostgreSQL: PROVISIONING at once, then
 * ACTIVE with every step recorded DONE; bad input that creates nothing (no row, no run, no job);
 * a failing step undone (storage, role, cluster schemas) and FAILED with its cause; retryProvisioning.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrationSets } from '../../src/tenancy/migration-targets.js';
import { databaseTemplateName } from '../../src/tenancy/isolation/database-isolation.js';
import { startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;
let foreign: Hierarchy;

const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id status } }';
const TENANT = 'query($id: ID!) { tenant(id: $id) { status provisioning { status attempt startedAt finishedAt error steps { name status durationMs error } } } }';
const RETRY = 'mutation($id: ID!) { retryProvisioning(id: $id) { id status } }';
type Step = { name: string; status: string; durationMs: number | null; error: string | null };
type Provisioning = { status: string; attempt: number; startedAt: string | null; finishedAt: string | null; error: string | null; steps: Step[] };
type TenantView = { tenant: { status: string; provisioning: Provisioning | null } };
const ext = (result: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => result.body.errors?.[0]?.extensions;
const system = () => app.token({ subject: 'prov-sys', tenantId: null, roles: ['system_admin'] }).then((token) => ({ authorization: `Bearer ${token}` }));

/** Polls `tenant.provisioning` over GraphQL until the tenant leaves PROVISIONING. */
async function settled(id: string, timeoutMs = 60_000): Promise<TenantView['tenant']> {
  const headers = await system();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await app.gql<TenantView>(TENANT, { id }, headers);
    expect(result.body.errors).toBeUndefined();
    const tenant = result.body.data!.tenant;
    if (tenant.status !== 'PROVISIONING') return tenant;
    if (Date.now() > deadline) throw new Error(`still PROVISIONING: ${JSON.stringify(tenant.provisioning)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const clinicInput = (overrides: Record<string, unknown> = {}) => {
  const slug = uniqueKey('pj').replace(/_/g, '-');
  return { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: `Clinic ${slug}`, domains: [`${slug}.test`], ...overrides };
};

async function storageOf(slug: string) {
  const { rows } = await app.central.pool.query<{ id: string; key: string; isolation: 'DATABASE' | 'SCHEMA'; databaseName: string; schemaName: string; dbServerId: string | null }>(
    'SELECT id, key, isolation, database_name AS "databaseName", schema_name AS "schemaName", db_server_id AS "dbServerId" FROM tenants WHERE slug = $1',
    [slug],
  );
  const row = rows[0]!;
  const record = { ...row, level: 'TENANT' as const };
  const role = app.tenancy.naming.tenantRole(row.key);
  return {
    exists: () => app.tenancy.strategyFor(record).exists(record),
    roleExists: async () => (await app.central.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1,
    clusterRows: async () => (await app.central.pool.query('SELECT 1 FROM cluster_schemas WHERE tenant_id = $1', [row.id])).rowCount,
  };
}

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
  foreign = await makeHierarchy(app.tenancy, 1);
});
afterAll(() => app?.stop());

describe('createTenant as a job', () => {
  it.each(['DATABASE', 'SCHEMA'] as const)('answers PROVISIONING at once, then ACTIVE with every step DONE (%s), timezone and first admin stored', async (isolation) => {
    const email = `${uniqueKey('first')}@example.test`;
    const input = clinicInput({ isolation, timezone: 'Europe/Berlin', admin: { email, name: 'First Admin' } });
    const created = await app.gql<{ createTenant: { id: string; status: string } }>(CREATE, { input }, await system());
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createTenant.status).toBe('PROVISIONING');
    const id = created.body.data!.createTenant.id;

    const tenant = await settled(id);
    expect(tenant.status).toBe('ACTIVE');
    expect(tenant.provisioning).toMatchObject({ status: 'ACTIVE', attempt: 1, error: null });
    expect(tenant.provisioning!.finishedAt).not.toBeNull();
    const names = tenant.provisioning!.steps.map((step) => step.name);
    // A DATABASE tenant's clone of the template carries the migrations: no migrations step.
    expect(names).toEqual(['storage', 'role', ...(isolation === 'SCHEMA' ? ['migrations'] : []), 'cluster-schemas', 'admin', 'domains', 'activate']);
    for (const step of tenant.provisioning!.steps) {
      expect(step.status).toBe('DONE');
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
    }

    const row = await app.central.pool.query('SELECT timezone FROM tenants WHERE id = $1', [id]);
    expect(row.rows[0].timezone).toBe('Europe/Berlin');
    const admin = await app.central.pool.query("SELECT a.name, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 AND a.email = $2", [id, email]);
    expect(admin.rows).toEqual([{ name: 'First Admin', role: 'admin' }]);
    // A system admin vouches for the domains it names.
    const domain = await app.central.pool.query('SELECT is_verified FROM domains WHERE domain = $1', [`${input.slug}.test`]);
    expect(domain.rows[0].is_verified).toBe(true);
    const storage = await storageOf(input.slug);
    expect(await storage.exists()).toBe(true);
    expect(await storage.roleExists()).toBe(true);
  });

  it("stores an ancestor admin's domains unverified and queues their check", async () => {
    const input = clinicInput({ isolation: 'SCHEMA' });
    const headers = { authorization: `Bearer ${await app.token({ subject: 'prov-admin', tenantId: hierarchy.app.id, roles: ['admin'] })}` };
    const created = await app.gql<{ createTenant: { id: string } }>(CREATE, { input }, headers);
    expect(created.body.errors).toBeUndefined();
    expect((await settled(created.body.data!.createTenant.id)).status).toBe('ACTIVE');
    const domain = await app.central.pool.query<{ id: string; is_verified: boolean }>('SELECT id, is_verified FROM domains WHERE domain = $1', [`${input.slug}.test`]);
    expect(domain.rows[0]!.is_verified).toBe(false);
    const jobs = await app.central.pool.query("SELECT 1 FROM pgboss.job WHERE name = 'domain.verify' AND data->'payload'->>'domainId' = $1", [domain.rows[0]!.id]);
    expect(jobs.rowCount).toBe(1);
  });

  it('refuses bad input naming the field, and writes nothing: no row, no run, no job', async () => {
    const jobsBefore = await app.central.pool.query<{ id: string }>("SELECT id FROM pgboss.job WHERE name = 'tenant.provision'");
    const known = new Set(jobsBefore.rows.map((row) => row.id));
    const headers = await system();
    const taken = clinicInput();
    expect((await app.gql(CREATE, { input: taken }, headers)).body.errors).toBeUndefined();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ slug: taken.slug }, 'CONFLICT', 'slug'],
      [{ domains: taken.domains }, 'CONFLICT', 'domain'],
      [{ key: 'Not-An-Identifier' }, 'BAD_USER_INPUT', 'key'],
      [{ parentId: hierarchy.app.id }, 'BAD_USER_INPUT', 'parentId'],
      [{ planKey: 'no-such-plan' }, 'BAD_USER_INPUT', 'planKey'],
      [{ dbServer: 'no-such-server' }, 'BAD_USER_INPUT', 'dbServer'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'BAD_USER_INPUT', 'timezone'],
      [{ timezone: "UTC'; DROP TABLE tenants; --" }, 'BAD_USER_INPUT', 'timezone'],
      [{ admin: { email: 'not an email' } }, 'BAD_USER_INPUT', 'admin.email'],
    ];
    const slugs: string[] = [];
    for (const [overrides, code, field] of cases) {
      const input = clinicInput(overrides);
      slugs.push(input.slug);
      expect(ext(await app.gql(CREATE, { input }, headers)), JSON.stringify(overrides)).toMatchObject({ code, field });
    }
    // An admin of another subtree: the parent is not one it administers.
    const outsider = { authorization: `Bearer ${await app.token({ subject: 'prov-out', tenantId: foreign.app.id, roles: ['admin'] })}` };
    const outside = clinicInput();
    slugs.push(outside.slug);
    expect(ext(await app.gql(CREATE, { input: outside }, outsider))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentId' });

    const refused = slugs.filter((slug) => slug !== taken.slug);
    const rows = await app.central.pool.query('SELECT 1 FROM tenants WHERE slug = ANY($1::text[])', [refused]);
    expect(rows.rowCount).toBe(0);
    // Every provisioning job queued meanwhile belongs to a tenant row (this file's valid create, or another file's).
    const jobsAfter = await app.central.pool.query<{ id: string; tenantId: string }>("SELECT id, data->'payload'->>'tenantId' AS \"tenantId\" FROM pgboss.job WHERE name = 'tenant.provision'");
    const fresh = jobsAfter.rows.filter((row) => !known.has(row.id));
    const orphans = await app.central.pool.query('SELECT t FROM unnest($1::uuid[]) t WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE id = t)', [fresh.map((row) => row.tenantId)]);
    expect(orphans.rowCount).toBe(0);
    const runs = await app.central.pool.query('SELECT 1 FROM provisioning_runs r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = ANY($1::text[])', [refused]);
    expect(runs.rowCount).toBe(0);
  });

  it('undoes a failed step (storage, role, cluster schemas), records FAILED with the cause, and retryProvisioning succeeds once fixed', async () => {
    const planKey = uniqueKey('badplan');
    await app.central.pool.query("INSERT INTO plans (key, name, seeders) VALUES ($1, 'Broken seeders', '[\"no-such-seeder\"]'::jsonb)", [planKey]);
    const input = clinicInput({ isolation: 'DATABASE', planKey });
    const created = await app.gql<{ createTenant: { id: string } }>(CREATE, { input }, await system());
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data!.createTenant.id;

    const failed = await settled(id);
    expect(failed.status).toBe('FAILED');
    expect(failed.provisioning!.status).toBe('FAILED');
    expect(failed.provisioning!.error).toMatch(/^seeders: .*no-such-seeder/);
    const byName = Object.fromEntries(failed.provisioning!.steps.map((step) => [step.name, step]));
    expect(byName.seeders).toMatchObject({ status: 'FAILED' });
    expect(byName.storage!.status).toBe('UNDONE');
    expect(byName.role!.status).toBe('UNDONE');
    expect(byName.activate!.status).toBe('PENDING');
    const storage = await storageOf(input.slug);
    expect(await storage.exists()).toBe(false);
    expect(await storage.roleExists()).toBe(false);
    expect(await storage.clusterRows()).toBe(0);
    // FAILED is not reachable; an ACTIVE tenant cannot be retried; another subtree's admin cannot see it.
    const outsider = { authorization: `Bearer ${await app.token({ subject: 'prov-out2', tenantId: foreign.app.id, roles: ['admin'] })}` };
    expect(ext(await app.gql(RETRY, { id }, outsider))?.code).toBe('NOT_FOUND');

    await app.central.pool.query("UPDATE plans SET seeders = '[]'::jsonb WHERE key = $1", [planKey]);
    const retried = await app.gql<{ retryProvisioning: { status: string } }>(RETRY, { id }, await system());
    expect(retried.body.errors).toBeUndefined();
    expect(retried.body.data!.retryProvisioning.status).toBe('PROVISIONING');
    const active = await settled(id);
    expect(active.status).toBe('ACTIVE');
    expect(active.provisioning).toMatchObject({ status: 'ACTIVE', attempt: 2 });
    expect(await storage.exists()).toBe(true);
    expect(await storage.roleExists()).toBe(true);
    expect(ext(await app.gql(RETRY, { id }, await system()))).toMatchObject({ code: 'CONFLICT', field: 'status' });
  });

  it('never shows a credential in a recorded error', async () => {
    const { describeError } = await import('../../src/tenancy/provisioning/provisioning-driver.js');
    const message = describeError(new Error("connect to postgres://admin:s3cret@db:5432/x failed; password=hunter2; CREATE ROLE r PASSWORD 'SCRAM-SHA-256$4096:abc'"));
    expect(message).not.toMatch(/s3cret|hunter2|SCRAM/);
  });
});

describe('tenant.provisioning in a list', () => {
  it("gives every tenant its own attempt and steps, read in one statement for the whole page", async () => {
    const created: string[] = [];
    for (const isolation of ['DATABASE', 'SCHEMA', 'DATABASE'] as const) {
      const result = await app.gql<{ createTenant: { id: string } }>(CREATE, { input: clinicInput({ isolation }) }, await system());
      created.push(result.body.data!.createTenant.id);
    }
    for (const id of created) await settled(id);
    const one = async (id: string) => (await app.gql<TenantView>(TENANT, { id }, await system())).body.data!.tenant.provisioning;
    const expected = await Promise.all(created.map(one));
    const list = 'query($parent: ID!) { tenants(first: 100, filter: { parentId: $parent }) { edges { node { id provisioning { status attempt startedAt finishedAt error steps { name status durationMs error } } } } } }';
    const statements: string[] = [];
    const pool = app.tenancy.central;
    const query = pool.query.bind(pool);
    pool.query = ((...args: Parameters<typeof query>) => {
      if (typeof args[0] === 'string') statements.push(args[0]);
      return query(...args);
    }) as typeof pool.query;
    let listed;
    try {
      listed = await app.gql<{ tenants: { edges: { node: { id: string; provisioning: Provisioning | null } }[] } }>(list, { parent: hierarchy.groups[0]!.id }, await system());
    } finally {
      pool.query = query;
    }
    expect(listed.body.errors).toBeUndefined();
    const byId = new Map(listed.body.data!.tenants.edges.map(({ node }) => [node.id, node.provisioning]));
    expect(created.map((id) => byId.get(id))).toEqual(expected);
    // DATABASE and SCHEMA tenants have different steps: each got its own.
    expect(expected[0]!.steps.map((step) => step.name)).not.toEqual(expected[1]!.steps.map((step) => step.name));
    expect(statements.filter((sql) => /FROM provisioning_runs/.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => /FROM provisioning_steps/.test(sql))).toHaveLength(1);
  });
});

describe('the template database', () => {
  it("is rebuilt when the tenant migrations change: tenants made after carry the new migration, and the old set's template stays for processes still on it", async () => {
    const before = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantgraph-migrations-'));
    await cp(path.resolve('migrations'), dir, { recursive: true });
    await writeFile(path.join(dir, 'tenant', '9999_template_probe.sql'), 'CREATE TABLE template_probe (id integer PRIMARY KEY);\n');
    const changed = await startTestApp({ MIGRATIONS_DIR: dir, WORKER: 'false' });
    try {
      const prefix = changed.runtime.config.tenancy.storagePrefix.replace(/_+$/, '');
      const year = new Date().getUTCFullYear();
      const oldTemplate = databaseTemplateName(prefix, await loadMigrationSets(), year);
      const newTemplate = databaseTemplateName(prefix, changed.tenancy.migrations, year);
      expect(newTemplate).not.toBe(oldTemplate);
      const after = await makeClinic(changed.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
      const url = (database: string) => {
        const parsed = new URL(changed.central.url);
        parsed.pathname = `/${database}`;
        return parsed.toString();
      };
      const probe = async (database: string) => {
        const client = new pg.Client({ connectionString: url(database) });
        await client.connect();
        try {
          return (await client.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'template_probe'")).rowCount;
        } finally {
          await client.end();
        }
      };
      expect(await probe(after.databaseName!)).toBe(1);
      expect(await probe(before.databaseName!)).toBe(0);
      // Both sets' templates exist: a new template drops only sets older than the newest few, so
      // processes on the old set (this file's app, other test files' apps) keep theirs.
      const templates = await changed.central.pool.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[oldTemplate, newTemplate]]);
      expect(templates.rows.map((row) => row.datname).sort()).toEqual([oldTemplate, newTemplate].sort());
    } finally {
      await changed.stop();
      await rm(dir, { recursive: true, force: true });
    }
    // This file's own app still provisions: its template was rebuilt when it found it gone.
    const again = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
    expect(await app.tenancy.strategyFor(again).exists(again)).toBe(true);
  });
});

describe('who sees a tenant’s provisioning', () => {
  it('is a tenant detail: an outsider reaching the clinic gets its name, never its provisioning steps or errors', async () => {
    const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
    const query = '{ currentTenant { tenant { slug provisioning { status steps { name error } } } } }';
    const outsider = await app.gql<{ currentTenant: { tenant: { slug: string; provisioning: unknown } | null } }>(query, {}, { 'x-tenant': clinic.slug });
    expect(outsider.body.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    expect(JSON.stringify(outsider.body.data ?? null)).not.toContain('"steps"');
    // Its own admin sees them.
    const own = { authorization: `Bearer ${await app.token({ subject: 'prov-own', tenantId: clinic.id, roles: ['admin'] })}`, 'x-tenant': clinic.slug };
    const insider = await app.gql<{ currentTenant: { tenant: { provisioning: { status: string } | null } } }>(query, {}, own);
    expect(insider.body.errors).toBeUndefined();
    expect(insider.body.data!.currentTenant.tenant.provisioning?.status).toBe('ACTIVE');
  });
});
