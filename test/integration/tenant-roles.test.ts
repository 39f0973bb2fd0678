/**
 * Each TENANT's requests run as its own PostgreSQL role: naming another tenant's schema fails in
 * PostgreSQL itself, shared pools switch roles correctly under interleaving, the role can log in
 * on its own only, and a failed provisioning leaves no role behind.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionTenant, type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { tenantPasswordContext } from '../../src/tenancy/secrets/stored-secrets.js';
import { startTestApp, testEnv, uniqueKey, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;
let schemaA: ProvisionedTenant;
let schemaB: ProvisionedTenant;
let databaseC: ProvisionedTenant;
let databaseD: ProvisionedTenant;
const system = { kind: 'system', actor: 'test:tenant-roles' } as const;

beforeAll(async () => {
  // One connection per pool: every tenant of the shared database takes turns on the same connection.
  app = await startTestApp({ DB_POOL_MAX: '1' });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  const group = hierarchy.groups[0]!;
  [schemaA, schemaB, databaseC, databaseD] = await Promise.all([
    makeClinic(app.tenancy, group, 'SCHEMA', { clusterYears: [] }),
    makeClinic(app.tenancy, group, 'SCHEMA', { clusterYears: [] }),
    makeClinic(app.tenancy, group, 'DATABASE', { clusterYears: [] }),
    makeClinic(app.tenancy, group, 'DATABASE', { clusterYears: [] }),
  ]);
  for (const clinic of [schemaA, schemaB, databaseC, databaseD]) {
    await app.runtime.scopes.runInTenant(clinic.id, system, (context) =>
      context.db.tenant().patient.create({ data: { mrn: `m-${clinic.key}`, firstName: 'R', lastName: clinic.key } }),
    );
  }
});
afterAll(() => app?.stop());

const row = async (id: string) =>
  (await app.central.pool.query('SELECT db_username, db_password_ciphertext, db_password_key_id FROM tenants WHERE id = $1', [id])).rows[0];

describe('per-tenant roles', () => {
  it('gives each tenant a prefixed role whose password is stored only encrypted', async () => {
    for (const clinic of [schemaA, databaseC]) {
      const stored = await row(clinic.id);
      expect(stored.db_username).toBe(`${testEnv().TENANT_DATABASE_PREFIX}${clinic.key}_role`);
      expect(stored.db_password_key_id).toBe('t1');
      const password = app.tenancy.keyRing.decrypt({ ciphertext: stored.db_password_ciphertext, keyId: 't1' }, tenantPasswordContext(clinic.id));
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(stored.db_password_ciphertext).not.toContain(password);
    }
  });

  it("runs a tenant's statements as its role: another tenant's schema is refused by PostgreSQL", async () => {
    const attempt = (from: ProvisionedTenant, victim: ProvisionedTenant) =>
      app.runtime.scopes.runInTenant(from.id, system, (context) =>
        context.db.tenant().$queryRawUnsafe(`SELECT mrn FROM "${victim.schemaName}".patients`),
      );
    await expect(attempt(schemaA, schemaB)).rejects.toThrow(/permission denied for schema/);
    await expect(attempt(schemaB, schemaA)).rejects.toThrow(/permission denied for schema/);
    // Its own schema, named the same way, works.
    expect(await attempt(schemaA, schemaA)).toEqual([{ mrn: `m-${schemaA.key}` }]);
    // The migrations bookkeeping stays the admin's.
    await expect(
      app.runtime.scopes.runInTenant(schemaA.id, system, (context) => context.db.tenant().$queryRawUnsafe(`SELECT * FROM "${schemaA.schemaName}"._tenantgraph_migrations`)),
    ).rejects.toThrow(/permission denied/);
  });

  it.each(['DATABASE', 'SCHEMA'] as const)(
    'grants a %s tenant every table of its own schemas (cloned or migrated) and no bookkeeping table; keeps exactly the cluster schemas asked for',
    async (isolation) => {
      const year = new Date().getUTCFullYear();
      // This year's cluster schemas come with a DATABASE tenant's clone of the template; next year's are migrated.
      const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, isolation, { clusterYears: [year, year + 1] });
      const bare = await makeClinic(app.tenancy, hierarchy.groups[0]!, isolation, { clusterYears: [] });
      const role = `${testEnv().TENANT_DATABASE_PREFIX}${clinic.key}_role`;
      const url = new URL(testEnv().DATABASE_URL!);
      const inspect = async (tenant: ProvisionedTenant, asRole: string) => {
        url.pathname = `/${tenant.databaseName}`;
        const admin = new pg.Client({ connectionString: url.toString() });
        await admin.connect();
        try {
          const own = isolation === 'DATABASE' ? `^(public|(emr|pos|scm)_[0-9]{4})$` : `^${tenant.schemaName}(_(emr|pos|scm)_[0-9]{4})?$`;
          const { rows } = await admin.query<{ schema: string; relation: string; kind: string; granted: boolean }>(
            `SELECT n.nspname AS schema, c.relname AS relation, c.relkind::text AS kind,
                    CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, 'USAGE')
                         ELSE has_table_privilege($1, c.oid, 'SELECT') AND has_table_privilege($1, c.oid, 'INSERT')
                          AND has_table_privilege($1, c.oid, 'UPDATE') AND has_table_privilege($1, c.oid, 'DELETE') END AS granted
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname ~ $2 AND c.relkind IN ('r', 'p', 'S')`,
            [asRole, own],
          );
          return rows;
        } finally {
          await admin.end();
        }
      };
      const relations = await inspect(clinic, role);
      const schemas = [...new Set(relations.map((r) => r.schema))].sort();
      const base = isolation === 'DATABASE' ? 'public' : clinic.schemaName!;
      const clusters = [year, year + 1].flatMap((y) => ['emr', 'pos', 'scm'].map((m) => (isolation === 'DATABASE' ? `${m}_${y}` : `${clinic.schemaName}_${m}_${y}`)));
      expect(schemas).toEqual([base, ...clusters].sort());
      expect(relations.filter((r) => r.relation !== '_tenantgraph_migrations' && r.kind !== 'S').length).toBeGreaterThan(schemas.length);
      for (const relation of relations) {
        expect({ ...relation, granted: relation.relation === '_tenantgraph_migrations' ? !relation.granted : relation.granted }).toMatchObject({ granted: true });
      }
      // Asked for no cluster schemas: none kept (a DATABASE clone's are dropped).
      const bareSchemas = new Set((await inspect(bare, `${testEnv().TENANT_DATABASE_PREFIX}${bare.key}_role`)).map((r) => r.schema));
      expect([...bareSchemas]).toEqual([isolation === 'DATABASE' ? 'public' : bare.schemaName]);
      // And the tenant's role reads its cluster tables through its own requests.
      await app.runtime.scopes.runInTenant(clinic.id, system, (context) =>
        context.db.tenant().$queryRawUnsafe(`SELECT count(*) FROM "${clusters[0]}".visits`),
      );
    },
  );

  it('switches roles correctly on a shared connection under 200 interleaved runs', async () => {
    const tenants = [schemaA, schemaB, databaseC, databaseD];
    const seen = await mapLimit(Array.from({ length: 200 }, (_, i) => tenants[i % 4]!), 8, (clinic) =>
      app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
        const [who] = await context.db.tenant().$queryRawUnsafe<{ current_user: string }[]>('SELECT current_user');
        const mrns = (await context.db.tenant().patient.findMany()).map((p) => p.mrn);
        return { clinic, who: who!.current_user, mrns };
      }),
    );
    for (const { clinic, who, mrns } of seen) {
      expect(who).toBe(`${testEnv().TENANT_DATABASE_PREFIX}${clinic.key}_role`);
      expect(mrns).toEqual([`m-${clinic.key}`]);
    }
  });

  it('lets the role log in to its own database only', async () => {
    const stored = await row(databaseC.id);
    const password = app.tenancy.keyRing.decrypt({ ciphertext: stored.db_password_ciphertext, keyId: 't1' }, tenantPasswordContext(databaseC.id));
    const urlFor = (database: string) => {
      const url = new URL(testEnv().DATABASE_URL!);
      url.username = stored.db_username;
      url.password = password;
      url.pathname = `/${database}`;
      return url.toString();
    };
    const own = new pg.Client({ connectionString: urlFor(databaseC.databaseName!) });
    await own.connect();
    try {
      expect((await own.query('SELECT mrn FROM patients')).rows).toEqual([{ mrn: `m-${databaseC.key}` }]);
    } finally {
      await own.end();
    }
    const foreign = new pg.Client({ connectionString: urlFor(databaseD.databaseName!) });
    foreign.on('error', () => {});
    await expect(foreign.connect()).rejects.toThrow(/permission denied for database/);
    await foreign.end().catch(() => {});
  });

  it('leaves no role behind when provisioning fails after the role was made', async () => {
    const key = uniqueKey('rolefail');
    await expect(
      provisionTenant(app.tenancy, { level: 'TENANT', parentId: hierarchy.groups[0]!.id, key, slug: key.replace(/_/g, '-'), name: key, isolation: 'SCHEMA', failAfter: 'role' }),
    ).rejects.toThrow(/failAfter/);
    const role = app.tenancy.naming.tenantRole(key);
    expect((await app.central.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount).toBe(0);
  });
});
