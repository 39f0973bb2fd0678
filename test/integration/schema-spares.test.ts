/**
 * Spare SCHEMA storage (PROVISIONING_SPARES): made ahead of need, claimed by createTenant and
 * renamed to the tenant's names, replaced in the background; the tenant it becomes is like any
 * other (its role owns exactly its own schemas, its password works, another tenant's schema is
 * refused); stale and orphaned spares are dropped; a claim cut short is undone by name.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSchemaSpares } from '../../src/tenancy/provisioning/schema-spares.js';
import { undoProvisioning } from '../../src/tenancy/provisioning/provisioning-steps.js';
import { tenantPasswordContext } from '../../src/tenancy/secrets/stored-secrets.js';
import { startTestApp, testEnv, uniqueKey, type TestApp } from '../helpers/app.js';
import { awaitProvisioning, makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';
import { until } from '../helpers/until.js';

let app: TestApp;
let hierarchy: Hierarchy;
let serverId: string;
const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id status } }';
const year = new Date().getUTCFullYear();
const prefix = () => testEnv().TENANT_DATABASE_PREFIX!;
const sharedUrl = (user?: { name: string; password: string }) => {
  const url = new URL(testEnv().DATABASE_URL!);
  url.pathname = `/${testEnv().TENANTS_SHARED_DATABASE}`;
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  return url.toString();
};

async function onShared<T>(fn: (client: pg.Client) => Promise<T>, user?: { name: string; password: string }): Promise<T> {
  const client = new pg.Client({ connectionString: sharedUrl(user) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const spareRows = async () =>
  (await app.central.pool.query<{ key: string; status: string; fingerprint: string }>('SELECT key, status, fingerprint FROM schema_spares WHERE db_server_id = $1 ORDER BY created_at', [serverId])).rows;

/** Schemas of the shared database whose name starts with `start`. */
const schemasStartingWith = (start: string) =>
  onShared(async (client) => (await client.query<{ n: string }>('SELECT nspname AS n FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1', [start])).rows.map((r) => r.n));

async function createSchemaTenant(): Promise<{ id: string; key: string }> {
  const token = await app.token({ subject: 'spares-sys', tenantId: null, roles: ['system_admin'] });
  const slug = uniqueKey('spt').replace(/_/g, '-');
  const created = await app.gql<{ createTenant: { id: string } }>(
    CREATE,
    { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Spared', isolation: 'SCHEMA', domains: [`${slug}.test`] } },
    { authorization: `Bearer ${token}` },
  );
  expect(created.body.errors).toBeUndefined();
  const id = created.body.data!.createTenant.id;
  const outcome = await awaitProvisioning(app.central.pool, id);
  expect(outcome.status).toBe('ACTIVE');
  return { id, key: slug.replace(/-/g, '_') };
}

beforeAll(async () => {
  app = await startTestApp({ PROVISIONING_SPARES: '2' });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  serverId = await app.tenancy.servers.centralServerId();
});
afterAll(() => app?.stop());

describe('spare SCHEMA storage', () => {
  it('is made after the first SCHEMA tenant, claimed and renamed by the next, and replaced', async () => {
    await createSchemaTenant();
    const ready = await until('two READY spares', async () => {
      const rows = await spareRows();
      return rows.length === 2 && rows.every((row) => row.status === 'READY') ? rows : undefined;
    });
    // Each spare is whole: its schema, this year's three cluster schemas, its role.
    for (const { key } of ready) {
      expect(await schemasStartingWith(`${prefix()}${key}`)).toEqual(
        [`${prefix()}${key}`, ...['emr', 'pos', 'scm'].map((module) => `${prefix()}${key}_${module}_${year}`)].sort(),
      );
    }

    const tenant = await createSchemaTenant();
    const claimed = ready[0]!.key;
    const run = await app.central.pool.query<{ state: { spareKey?: string } }>('SELECT state FROM provisioning_runs WHERE tenant_id = $1', [tenant.id]);
    expect(run.rows[0]!.state.spareKey).toBe(claimed);
    // The spare's names are gone; the tenant's are there, with every table.
    expect(await schemasStartingWith(`${prefix()}${claimed}`)).toEqual([]);
    const schema = `${prefix()}${tenant.key}`;
    expect(await schemasStartingWith(schema)).toEqual([schema, ...['emr', 'pos', 'scm'].map((module) => `${schema}_${module}_${year}`)].sort());
    const roles = await app.central.pool.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [[`${prefix()}${tenant.key}_role`, `${prefix()}${claimed}_role`]]);
    expect(roles.rows).toEqual([{ rolname: `${prefix()}${tenant.key}_role` }]);
    // And it is replaced.
    await until('a replacement spare', async () => {
      const rows = await spareRows();
      return rows.length === 2 && rows.every((row) => row.status === 'READY' && row.key !== claimed) ? true : undefined;
    });
  });

  it('becomes a tenant like any other: its own tables through its role and password, another tenant refused', async () => {
    await until('a READY spare', async () => ((await spareRows()).some((row) => row.status === 'READY') ? true : undefined));
    const tenant = await createSchemaTenant();
    const other = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [year] });
    const system = { kind: 'system', actor: 'test:spares' } as const;
    await app.runtime.scopes.runInTenant(tenant.id, system, (context) => context.db.tenant().patient.create({ data: { mrn: 'spare-1', firstName: 'S', lastName: 'P' } }));
    const row = (await app.central.pool.query('SELECT db_username, db_password_ciphertext, db_password_key_id FROM tenants WHERE id = $1', [tenant.id])).rows[0];
    const password = app.tenancy.keyRing.decrypt({ ciphertext: row.db_password_ciphertext, keyId: row.db_password_key_id }, tenantPasswordContext(tenant.id));
    const schema = `${prefix()}${tenant.key}`;
    await onShared(
      async (client) => {
        expect((await client.query(`SELECT mrn FROM "${schema}".patients`)).rows).toEqual([{ mrn: 'spare-1' }]);
        await client.query(`INSERT INTO "${schema}_emr_${year}".visits (patient_id) VALUES (gen_random_uuid())`);
        await expect(client.query(`SELECT * FROM "${schema}"._tenantgraph_migrations`)).rejects.toThrow(/permission denied/);
        await expect(client.query(`SELECT * FROM "${other.schemaName}".patients`)).rejects.toThrow(/permission denied for schema/);
      },
      { name: row.db_username, password },
    );
    // The other tenant cannot reach the spare-made one either.
    await expect(
      app.runtime.scopes.runInTenant(other.id, system, (context) => context.db.tenant().$queryRawUnsafe(`SELECT mrn FROM "${schema}".patients`)),
    ).rejects.toThrow(/permission denied for schema/);
  });

  it('drops spares of other migrations and spare-named storage nobody accounts for', async () => {
    await until('two READY spares', async () => ((await spareRows()).filter((row) => row.status === 'READY').length === 2 ? true : undefined));
    const [stale] = await spareRows();
    await app.central.pool.query("UPDATE schema_spares SET fingerprint = 'stale00000' WHERE key = $1", [stale!.key]);
    // An orphan: spare-named storage with no row and no run (a build or claim cut short).
    const orphanKey = `spare_${'ab'.repeat(8)}`;
    await onShared((client) => client.query(`CREATE SCHEMA "${prefix()}${orphanKey}"; CREATE SCHEMA "${prefix()}${orphanKey}_emr_${year}"`));
    // A fresh instance: orphan checks run at most every few minutes per process.
    const work: Promise<unknown>[] = [];
    await makeSchemaSpares(app.tenancy, (promise) => work.push(promise)).replenish(serverId);
    await Promise.all(work);
    expect(await schemasStartingWith(`${prefix()}${orphanKey}`)).toEqual([]);
    expect(await schemasStartingWith(`${prefix()}${stale!.key}`)).toEqual([]);
    const rows = await spareRows();
    expect(rows.map((row) => row.key)).not.toContain(stale!.key);
    expect(rows.filter((row) => row.status === 'READY')).toHaveLength(2);
  });

  it('undoes a claim whose renames never happened: the spare-named storage and role go', async () => {
    await until('a READY spare', async () => ((await spareRows()).some((row) => row.status === 'READY') ? true : undefined));
    const { key } = (await spareRows()).find((row) => row.status === 'READY')!;
    await app.central.pool.query('DELETE FROM schema_spares WHERE key = $1', [key]);
    const never = uniqueKey('never');
    const names = app.tenancy.strategyFor({ level: 'TENANT', isolation: 'SCHEMA' }).namesFor(never);
    const record = { id: '00000000-0000-0000-0000-000000000000', level: 'TENANT' as const, key: never, slug: never, name: never, parentId: null, isolation: 'SCHEMA' as const, ...names, dbServerId: serverId };
    await undoProvisioning(app.tenancy, record, { spareKey: key });
    expect(await schemasStartingWith(`${prefix()}${key}`)).toEqual([]);
    expect((await app.central.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${prefix()}${key}_role`])).rowCount).toBe(0);
  });

  it("is not claimed by a run whose cluster years leave out the spare's (created in December, provisioned or retried in January)", async () => {
    await until('a READY spare', async () => ((await spareRows()).some((row) => row.status === 'READY') ? true : undefined));
    const before = await spareRows();
    const spares = makeSchemaSpares(app.tenancy, () => {});
    const late = uniqueKey('late');
    const names = app.tenancy.strategyFor({ level: 'TENANT', isolation: 'SCHEMA' }).namesFor(late);
    const record = { id: '00000000-0000-0000-0000-000000000000', level: 'TENANT' as const, key: late, slug: late, name: late, parentId: null, isolation: 'SCHEMA' as const, ...names, dbServerId: serverId };
    const state: { spareKey?: string } = {};
    // The storage pool is never reached: the claim declines before touching storage.
    const untouched = new Proxy({} as pg.Pool, {
      get: () => {
        throw new Error('the claim touched storage');
      },
    });
    expect(await spares.claim(record, record.id, state, untouched, [year - 1])).toBe(false);
    expect(state.spareKey).toBeUndefined();
    expect(await spareRows()).toEqual(before);
    // A run that asked for this year (and another) takes one as usual; the test undoes it by name.
    const run = await app.central.pool.query<{ id: string }>('SELECT id FROM provisioning_runs ORDER BY created_at DESC LIMIT 1');
    await app.tenancy.strategyFor(record).withStoragePool(record, async (pool) => {
      expect(await spares.claim(record, run.rows[0]!.id, state, pool, [year - 1, year])).toBe(true);
    });
    expect(state.spareKey).toBe(before.find((row) => row.status === 'READY')!.key);
    expect(await schemasStartingWith(names.schemaName!)).toEqual([names.schemaName!, ...['emr', 'pos', 'scm'].map((module) => `${names.schemaName!}_${module}_${year}`)].sort());
    await undoProvisioning(app.tenancy, { ...record, dbUsername: app.tenancy.naming.tenantRole(late) }, state);
    expect(await schemasStartingWith(names.schemaName!)).toEqual([]);
  });

  it('reserves spare_ keys: no tenant may take one', async () => {
    const token = await app.token({ subject: 'spares-sys', tenantId: null, roles: ['system_admin'] });
    const result = await app.gql(CREATE, { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug: 'spare-x1', key: 'spare_0123456789abcdef', name: 'x', isolation: 'SCHEMA' } }, {
      authorization: `Bearer ${token}`,
    });
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
    await expect(
      app.central.pool.query("INSERT INTO tenants (level, parent_id, key, slug, name) VALUES ('TENANT', $1, 'spare_x', 'spare-x2', 'x')", [hierarchy.groups[0]!.id]),
    ).rejects.toThrow(/tenants_key_not_reserved/);
  });
});
