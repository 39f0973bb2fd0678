/**
 * `tenantgraph import:single-db` against a real single-database clinic app built here with three
 * clinics: a tenant per clinic, rows copied into the right schemas (visits and invoices by year),
 * counts verified, the source unchanged; refusals change nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

let app: TestApp;
let hierarchy: Hierarchy;
let sourceUrl: string;
const sourceDb = `tg_src_${inject('runId')}`;
const system = { kind: 'system', actor: 'test:import' } as const;


async function withSource<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const SOURCE_SQL = `
CREATE TABLE patients (id uuid PRIMARY KEY, clinic_id text NOT NULL, mrn text NOT NULL, first_name text NOT NULL, last_name text NOT NULL, birth_date date, email text, phone text);
CREATE TABLE practitioners (id uuid PRIMARY KEY, clinic_id text NOT NULL, name text NOT NULL, specialty text, email text);
CREATE TABLE visits (id uuid PRIMARY KEY, clinic_id text NOT NULL, patient_id uuid NOT NULL, practitioner_id uuid, visited_at timestamptz NOT NULL, reason text, notes text);
CREATE TABLE invoices (id uuid PRIMARY KEY, clinic_id text NOT NULL, patient_id uuid NOT NULL, number text NOT NULL, issued_at timestamptz NOT NULL, total_cents integer NOT NULL);
INSERT INTO patients SELECT gen_random_uuid(), c, c || '-' || i, 'First' || i, 'Last' || c, NULL, NULL, NULL FROM unnest(ARRAY['north','south','east']) c, generate_series(1, 4) i;
INSERT INTO practitioners SELECT gen_random_uuid(), c, 'Dr ' || c, 'GP', NULL FROM unnest(ARRAY['north','south','east']) c;
INSERT INTO visits SELECT gen_random_uuid(), p.clinic_id, p.id, NULL, (y || '-06-01T10:00:00Z')::timestamptz, 'check-up', NULL FROM patients p, (VALUES (2024), (2025)) v(y);
INSERT INTO invoices SELECT gen_random_uuid(), p.clinic_id, p.id, 'INV-' || p.mrn, '2025-03-01T10:00:00Z', 1500 FROM patients p WHERE p.clinic_id <> 'east';
`;

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${sourceDb}`);
  await admin.query(`CREATE DATABASE ${sourceDb}`);
  await admin.end();
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${sourceDb}`;
  sourceUrl = url.toString();
  await withSource((client) => client.query(SOURCE_SQL));
}, 120_000);
afterAll(async () => {
  await app?.stop();
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${sourceDb} WITH (FORCE)`);
  await admin.end();
});

const snapshot = () =>
  withSource(async (client) => (await client.query("SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM patients t) || (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM visits t) || (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM invoices t) AS h")).rows[0].h as string);

describe('tenantgraph import:single-db', { timeout: 240_000 }, () => {
  it('refuses a missing tenant column before making anything', async () => {
    const result = await runCli(['import:single-db', '--source', sourceUrl, '--tenant-column', 'practice_id', '--group', hierarchy.groups[0]!.slug, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, kind: 'refused', error: expect.stringContaining('practice_id') });
    const { rows } = await app.tenancy.central.query("SELECT 1 FROM tenants WHERE parent_id = $1", [hierarchy.groups[0]!.id]);
    expect(rows).toEqual([]);
  });

  it('dry run, then imports three clinics with every row in place, and leaves the source unchanged', async () => {
    const before = await snapshot();
    const dry = await runCli(['import:single-db', '--source', sourceUrl, '--tenant-column', 'clinic_id', '--group', hierarchy.groups[0]!.slug, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { tenants: { value: string; counts: Record<string, number>; years: number[] }[] };
    expect(plan.tenants.map((t) => t.value)).toEqual(['east', 'north', 'south']);
    expect(plan.tenants[0]).toMatchObject({ counts: { patients: 4, practitioners: 1, visits: 8, invoices: 0 }, years: [2024, 2025] });

    const result = await runCli(['import:single-db', '--source', sourceUrl, '--tenant-column', 'clinic_id', '--group', hierarchy.groups[0]!.slug, '--isolation', 'SCHEMA', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { done: number; items: { slug: string; result: { tenantId: string; copied: Record<string, number> } }[] };
    expect(summary.done).toBe(3);
    const north = summary.items.find((item) => item.slug === 'imp-north')!;
    expect(north.result.copied).toEqual({ patients: 4, practitioners: 1, visits: 8, invoices: 4 });

    const seen = await app.runtime.scopes.runInTenant(north.result.tenantId, system, async (context) => ({
      mrns: (await context.db.tenant().patient.findMany({ orderBy: { mrn: 'asc' } })).map((p) => p.mrn),
      visits2024: await context.db.cluster('emr', 2024).visit.count(),
      invoices2025: await context.db.cluster('pos', 2025).invoice.count(),
      practitioners: (await context.db.group().practitioner.findMany()).map((p) => p.name).sort(),
    }));
    expect(seen).toEqual({ mrns: ['north-1', 'north-2', 'north-3', 'north-4'], visits2024: 4, invoices2025: 4, practitioners: ['Dr east', 'Dr north', 'Dr south'] });
    expect(await snapshot()).toBe(before);

    const again = await runCli(['import:single-db', '--source', sourceUrl, '--tenant-column', 'clinic_id', '--group', hierarchy.groups[0]!.slug, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ kind: 'refused', error: expect.stringContaining('already exist') });
  });
});
