/**
 * The hand-written hot reads (patient-reads.ts: the patient list; visit-reads.ts: the visits
 * DataLoader's batch) answer exactly what the query builder answered: the same rows, order,
 * cursors, page info, dates and nulls, for SCHEMA and DATABASE tenants, page by page to the last,
 * for an empty tenant, a cursor past the end, a cursor whose row was deleted; and never a row of
 * another tenant (two SCHEMA tenants share one database and one pool here, with the same names).
 * Both run on the client's own pool past Prisma (`rawRead`): its statements run as the tenant's
 * role, are tracked for cancellation and refused once the request was answered.
 */
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/resolvers/common/cursor.js';
import { toPatient } from '../../src/resolvers/patient/patient.service.js';
import { visitsByPatientLoader } from '../../src/resolvers/visit/visit.service.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { currentScopeState } from '../../src/tenancy/bootstrappers/index.js';
import { rawRead, type TenantClient } from '../../src/tenancy/level-clients.js';
import { PrismaClient as TenantPrismaClient } from '../../src/generated/tenant/client.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

type Clinic = ProvisionedTenant & { domain: string; token: string; patientIds: string[] };
type Connection = { edges: { cursor: string; node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const YEAR = new Date().getUTCFullYear();
const system = { kind: 'system', actor: 'hot-reads test' } as const;
const PAGE = `query($first: Int, $after: String) {
  patients(first: $first, after: $after) { edges { cursor node { id mrn firstName lastName birthDate email phone } } pageInfo { hasNextPage endCursor } }
}`;
const WITH_VISITS = `query { patients(first: 100) { edges { node { id visits { id patientId visitedAt reason notes } } } } }`;

let app: TestApp;
let a: Clinic; // SCHEMA
let b: Clinic; // SCHEMA, same shared database and pool as a, the same names
let c: Clinic; // DATABASE
let empty: Clinic; // SCHEMA, no patients

/** Names that sort differently by byte, case and accent, with (last, first) ties that only the id orders. */
const NAMES: [string, string][] = [
  ['Adams', 'Zoë'], ['adams', 'Anna'], ['Adams', 'Anna'], ['Adams', 'Anna'], ['Ångström', 'Eva'], ['Zhang', 'Li'], ['zhang', 'li'],
  ['Müller', 'Jürgen'], ['Muller', 'Jurgen'], ["O'Brien", 'Seán'], ['O Brien', 'Sean'], ['Lee', 'x'], ['Lee', 'X'],
  ['van der Berg', 'Piet'], ['Van Der Berg', 'Piet'], ['Smith', 'John'], ['Smith', 'John'], ['Smith', 'John'], ['Émile', 'Zola'],
  ['Émile', 'zola'], ['Yılmaz', 'Ayşe'], ['Ng', 'Al'], ['Ng', 'Al'],
];

async function seed(clinic: ProvisionedTenant & { domain: string }, names: [string, string][], visitsPerPatient: (i: number) => number): Promise<Clinic> {
  const target = app.tenancy.strategyFor(clinic).connectionTarget(clinic);
  const tenant = app.tenancy.registry.lease(target, 'tenant');
  const emr = app.tenancy.registry.lease({ ...target, schema: app.tenancy.naming.clusterSchema(clinic, 'emr', YEAR) }, 'cluster');
  const patientIds: string[] = [];
  try {
    for (const [i, [lastName, firstName]] of names.entries()) {
      const patient = await tenant.client.patient.create({
        data: {
          mrn: `${clinic.id.slice(0, 8)}-${i}`,
          firstName,
          lastName,
          birthDate: i % 3 === 0 ? null : new Date(Date.UTC(1950 + i, i % 12, 1 + i)),
          email: i % 2 === 0 ? null : `p${i}@example.com`,
          phone: i % 4 === 1 ? '+1 (555) 010-0000' : null,
        },
      });
      patientIds.push(patient.id);
      for (let v = 0; v < visitsPerPatient(i); v++) {
        // Two visits at the same instant: only the id orders them.
        const visitedAt = new Date(Date.UTC(YEAR, 0, 1 + (v === 2 ? 1 : v), 9, 30, 15, 123));
        await emr.client.visit.create({ data: { patientId: patient.id, visitedAt, reason: v === 0 ? null : `reason ${v}`, notes: v === 1 ? 'ünïcode ✓' : null } });
      }
    }
  } finally {
    tenant.release();
    emr.release();
  }
  return { ...clinic, patientIds, token: await app.token({ subject: `hot-reads-${clinic.id}`, tenantId: clinic.id, roles: ['admin'] }) };
}

/** The reference: listPatients as it was on the query builder (every column, the keyset as OR terms). */
async function builderPage(clinic: Clinic, first: number, after: string | null): Promise<Connection> {
  return app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
    const db: TenantClient = context.db.tenant();
    const where: Record<string, unknown> = {};
    if (after) {
      const [, lastName, firstName, id] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as string[];
      Object.assign(where, { AND: [{ OR: [{ lastName: { gt: lastName } }, { lastName, firstName: { gt: firstName } }, { lastName, firstName, id: { gt: id } }] }] });
    }
    const rows = await db.patient.findMany({ where, orderBy: [{ lastName: 'asc' }, { firstName: 'asc' }, { id: 'asc' }], take: first + 1 });
    const edges = rows.slice(0, first).map((row) => ({ cursor: encodeCursor(clinic.id, [row.lastName, row.firstName, row.id]), node: { ...toPatient(row) } }));
    return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  });
}

async function page(clinic: Clinic, first: number, after: string | null): Promise<Connection> {
  const { body } = await app.gql<{ patients: Connection }>(PAGE, { first, after }, { authorization: `Bearer ${clinic.token}` });
  expect(body.errors).toBeUndefined();
  return body.data!.patients;
}

/** Every page of `clinic`, `first` at a time, each compared with the query builder's. */
async function walk(clinic: Clinic, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const got = await page(clinic, first, after);
    expect(got).toEqual(await builderPage(clinic, first, after));
    ids.push(...got.edges.map((edge) => edge.node.id as string));
    if (!got.pageInfo.hasNextPage) return ids;
    after = got.pageInfo.endCursor;
  }
  throw new Error('more pages than patients');
}

beforeAll(async () => {
  app = await startTestApp();
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  const group = hierarchy.groups[0]!;
  const [ca, cb, cc, ce] = await Promise.all([
    makeClinic(app.tenancy, group, 'SCHEMA'),
    makeClinic(app.tenancy, group, 'SCHEMA'),
    makeClinic(app.tenancy, group, 'DATABASE'),
    makeClinic(app.tenancy, group, 'SCHEMA'),
  ]);
  a = await seed(ca, NAMES, (i) => i % 4);
  b = await seed(cb, NAMES.slice(0, 6), () => 2);
  c = await seed(cc, NAMES.slice(0, 9), (i) => i % 2);
  empty = await seed(ce, [], () => 0);
}, 120_000);
afterAll(() => app?.stop());

describe('the patient list, hand-written', () => {
  it.each([1, 2, 5, 7, 23, 100])('answers every page as the query builder did, %i at a time (SCHEMA tenant)', async (first) => {
    const ids = await walk(a, first);
    expect(ids.sort()).toEqual([...a.patientIds].sort());
  });

  it.each([1, 4, 9, 20])('answers every page as the query builder did, %i at a time (DATABASE tenant)', async (first) => {
    const ids = await walk(c, first);
    expect(ids.sort()).toEqual([...c.patientIds].sort());
  });

  it('an exact fit has no next page; the page before the last says there is one', async () => {
    const all = await page(a, NAMES.length, null);
    expect(all.edges).toHaveLength(NAMES.length);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const short = await page(a, NAMES.length - 1, null);
    expect(short.pageInfo.hasNextPage).toBe(true);
  });

  it('an empty tenant answers an empty page with no cursor', async () => {
    const got = await page(empty, 20, null);
    expect(got).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(got).toEqual(await builderPage(empty, 20, null));
  });

  it('a cursor past the end answers an empty page', async () => {
    const all = await page(c, 100, null);
    const last = all.edges.at(-1)!.cursor;
    const got = await page(c, 20, last);
    expect(got).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(got).toEqual(await builderPage(c, 20, last));
    // A position beyond every name (made here, for this tenant) as well.
    const beyond = encodeCursor(c.id, ['\u{10FFFF}', '', '00000000-0000-4000-8000-000000000000']);
    expect(await page(c, 20, beyond)).toEqual(await builderPage(c, 20, beyond));
  });

  it("a cursor whose patient was deleted goes on from that position, as the query builder's did", async () => {
    const clinic = await seed(await makeClinic(app.tenancy, (await makeHierarchy(app.tenancy, 1)).groups[0]!, 'SCHEMA'), NAMES.slice(0, 8), () => 0);
    const first = await page(clinic, 3, null);
    const gone = first.edges.at(-1)!;
    await app.runtime.scopes.runInTenant(clinic.id, system, (context) => context.db.tenant().patient.delete({ where: { id: gone.node.id as string } }));
    const next = await page(clinic, 3, gone.cursor);
    expect(next).toEqual(await builderPage(clinic, 3, gone.cursor));
    expect(next.edges.map((edge) => edge.node.id)).not.toContain(gone.node.id);
    expect(next.edges).toHaveLength(3);
  });

  it("never answers another tenant's rows, and refuses another tenant's cursor", async () => {
    // a and b are SCHEMA tenants on one pool, with the same names: a leak would show as b's ids.
    const ids = await walk(a, 100);
    expect(ids.filter((id) => b.patientIds.includes(id))).toEqual([]);
    const ofB = (await page(b, 2, null)).pageInfo.endCursor!;
    const { body } = await app.gql(PAGE, { first: 5, after: ofB }, { authorization: `Bearer ${a.token}` });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.data).toBeNull();
  });
});

describe("the visits DataLoader's batch, hand-written", () => {
  /** The reference: the batch as it was on the query builder. */
  async function builderVisits(clinic: Clinic, patientIds: string[]) {
    return app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
      const rows = await context.db.cluster('emr', YEAR).visit.findMany({ where: { patientId: { in: patientIds } }, orderBy: [{ visitedAt: 'desc' }, { id: 'asc' }] });
      return patientIds.map((id) => rows.filter((row) => row.patientId === id).map((row) => ({ id: row.id, patientId: row.patientId, visitedAt: row.visitedAt.toISOString(), reason: row.reason, notes: row.notes })));
    });
  }

  it('answers every patient’s visits (order, instants, nulls) as the query builder did', async () => {
    const { body } = await app.gql<{ patients: { edges: { node: { id: string; visits: unknown[] } }[] } }>(WITH_VISITS, {}, { authorization: `Bearer ${a.token}` });
    expect(body.errors).toBeUndefined();
    const edges = body.data!.patients.edges;
    const expected = await builderVisits(a, edges.map((edge) => edge.node.id));
    expect(edges.map((edge) => edge.node.visits)).toEqual(expected);
    expect(expected.flat().length).toBeGreaterThan(20);
  });

  it("gives [] for missing, deleted, malformed and another tenant's patient ids in one batch", async () => {
    const withVisits = a.patientIds.find((_, i) => i % 4 === 3)!;
    const ofB = b.patientIds[0]!; // b's patients all have visits this year, in b's own schema
    const results = await app.runtime.scopes.runInTenant(a.id, system, async (context) => {
      const loader = visitsByPatientLoader(context, YEAR);
      return loader.loadMany([withVisits, randomUUID(), ofB, 'not-a-uuid', withVisits]);
    });
    const [expected] = await builderVisits(a, [withVisits]);
    const shaped = (results as { id: string; patientId: string; visitedAt: Date; reason: string | null; notes: string | null }[][]).map((visits) =>
      visits.map((visit) => ({ id: visit.id, patientId: visit.patientId, visitedAt: visit.visitedAt.toISOString(), reason: visit.reason, notes: visit.notes })),
    );
    expect(shaped).toEqual([expected, [], [], [], expected]);
    expect(expected).toHaveLength(3);
    // b's visits exist (so [] above is isolation, not absence).
    expect((await builderVisits(b, [ofB]))[0]).toHaveLength(2);
  });
});

describe("rawRead: the client's own pool, role and statement tracking", () => {
  const roleOf = (clinic: Clinic) => `${testEnv().TENANT_DATABASE_PREFIX}${clinic.key}_role`;

  it("runs as the tenant's own role, switching correctly between tenants sharing a pool", async () => {
    const tenants = [a, b, c, a, b];
    const seen = await mapLimit(Array.from({ length: 100 }, (_, i) => tenants[i % tenants.length]!), 8, (clinic) =>
      app.runtime.scopes.runInTenant(clinic.id, system, async (context) => {
        const db: TenantClient = context.db.tenant();
        const [who] = await rawRead<{ who: string }>(db, 'SELECT current_user AS who', []);
        // The query builder in between: both ways share the pool and its role switching.
        const count = await db.patient.count();
        return { clinic, who: who!.who, count };
      }),
    );
    for (const { clinic, who, count } of seen) {
      expect(who).toBe(roleOf(clinic));
      expect(count).toBe(clinic.patientIds.length);
    }
  });

  it("cannot read another tenant's schema: PostgreSQL refuses the tenant's role", async () => {
    const schemaOf = (clinic: Clinic) => app.tenancy.strategyFor(clinic).connectionTarget(clinic).schema;
    const attempt = (from: Clinic, victim: Clinic) =>
      app.runtime.scopes.runInTenant(from.id, system, (context) => rawRead(context.db.tenant(), `SELECT mrn FROM "${schemaOf(victim)}".patients`, []));
    await expect(attempt(a, b)).rejects.toThrow(/permission denied for schema/);
    await expect(attempt(b, a)).rejects.toThrow(/permission denied for schema/);
    expect(await attempt(a, a)).toHaveLength(a.patientIds.length);
  });

  it('refuses the statement of a request that was already answered (deadline, shutdown)', async () => {
    await expect(
      app.runtime.scopes.runInTenant(a.id, system, async (context) => {
        currentScopeState()!.abandoned = true;
        return rawRead(context.db.tenant(), 'SELECT 1', []);
      }),
    ).rejects.toThrow(/already answered/);
  });

  it('notes the connection its statement ran on, so a late request can cancel it', async () => {
    const connections = await app.runtime.scopes.runInTenant(a.id, system, async (context) => {
      await rawRead(context.db.tenant(), 'SELECT 1', []);
      return currentScopeState()!.connections?.size ?? 0;
    });
    expect(connections).toBe(1);
  });

  it('refuses a client the registry did not make (its pool and schema are unknown)', async () => {
    const pool = new pg.Pool({ connectionString: testEnv().DATABASE_URL });
    try {
      const stray = new TenantPrismaClient({ adapter: new PrismaPg(pool) });
      await expect(rawRead(stray, 'SELECT 1', [])).rejects.toThrow(/not made by levelClientFactories/);
    } finally {
      await pool.end();
    }
  });
});
