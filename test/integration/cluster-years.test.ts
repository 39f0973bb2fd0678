/**
 * Years and time zones over HTTP: a record's year is taken in the tenant's zone; a year with no
 * cluster schema reads as [] and refuses writes with CLUSTER_NOT_READY; years outside
 * CLUSTER_YEARS_MIN..next year are BAD_USER_INPUT and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
const year = new Date().getUTCFullYear();
type Clinic = { id: string; token: string; patientId: string };
let tokyo: Clinic;
let utc: Clinic;

async function clinicIn(timezone: string | null, group: Parameters<typeof makeClinic>[1]): Promise<Clinic> {
  const clinic = await makeClinic(app.tenancy, group, 'SCHEMA', { clusterYears: [year], prefix: 'yr' });
  if (timezone) {
    await app.tenancy.central.query('UPDATE tenants SET timezone = $2 WHERE id = $1', [clinic.id, timezone]);
    await app.tenancy.events.publish({ type: 'TenantUpdated', tenantId: clinic.id });
  }
  const token = await app.token({ subject: 'year-tester', tenantId: clinic.id, roles: ['admin'] });
  const created = await app.gql<{ createPatient: { id: string } }>(
    'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
    { input: { mrn: 'yr-1', firstName: 'Year', lastName: 'Boundary' } },
    { authorization: `Bearer ${token}` },
  );
  expect(created.body.errors).toBeUndefined();
  return { id: clinic.id, token, patientId: created.body.data!.createPatient.id };
}

const RECORD = 'mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id visitedAt } }';
const VISITS = 'query($year: Int!) { visits(year: $year) { id visitedAt } }';
const INVOICE = 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }';

function as(clinic: Clinic) {
  return { authorization: `Bearer ${clinic.token}` };
}

beforeAll(async () => {
  app = await startTestApp();
  const { groups } = await makeHierarchy(app.tenancy, 1);
  tokyo = await clinicIn('Asia/Tokyo', groups[0]!);
  utc = await clinicIn(null, groups[0]!);
});
afterAll(() => app?.stop());

describe('a record’s year is taken in the tenant’s time zone', () => {
  // 23:30 UTC on 31 December of last year is 08:30 on 1 January of this year in Tokyo.
  const boundary = `${year - 1}-12-31T23:30:00.000Z`;

  it('in Asia/Tokyo, 23:30 UTC on 31 December is next year: the visit lands in this year’s schema', async () => {
    const recorded = await app.gql<{ recordVisit: { id: string } }>(RECORD, { input: { patientId: tokyo.patientId, visitedAt: boundary } }, as(tokyo));
    expect(recorded.body.errors).toBeUndefined();
    const listed = await app.gql<{ visits: { id: string }[] }>(VISITS, { year }, as(tokyo));
    expect(listed.body.data!.visits.map((visit) => visit.id)).toContain(recorded.body.data!.recordVisit.id);
  });

  it('in UTC the same instant is last year, which has no schema: CLUSTER_NOT_READY naming the year and the mutation', async () => {
    const refused = await app.gql(RECORD, { input: { patientId: utc.patientId, visitedAt: boundary } }, as(utc));
    expect(refused.status).toBe(409);
    expect(refused.body.data).toBeNull();
    const error = refused.body.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'CLUSTER_NOT_READY', module: 'emr', year: year - 1, mutation: 'generateClusterSchemas' });
    expect(error.message).toContain(String(year - 1));
    expect(error.message).toContain('generateClusterSchemas');
    const listed = await app.gql<{ visits: unknown[] }>(VISITS, { year }, as(utc));
    expect(listed.body.data!.visits).toEqual([]);
  });
});

describe('a year with no schema', () => {
  it('reads as [] (not NOT_FOUND), for visits, invoices and a patient’s visits', async () => {
    const next = year + 1;
    const visits = await app.gql(VISITS, { year: next }, as(utc));
    expect(visits.body).toEqual({ data: { visits: [] } });
    const invoices = await app.gql('query($year: Int!) { invoices(year: $year) { id } }', { year: next }, as(utc));
    expect(invoices.body).toEqual({ data: { invoices: [] } });
    const nested = await app.gql<{ patients: { edges: { node: { visits: unknown[] } }[] } }>(
      'query($year: Int) { patients(first: 5) { edges { node { visits(year: $year) { id } } } } }',
      { year: next },
      as(utc),
    );
    expect(nested.body.errors).toBeUndefined();
    expect(nested.body.data!.patients.edges[0]!.node.visits).toEqual([]);
  });

  it('refuses an invoice into it with CLUSTER_NOT_READY before anything else is checked', async () => {
    const refused = await app.gql(
      INVOICE,
      { input: { patientId: utc.patientId, issuedAt: `${year + 1}-02-01T10:00:00Z`, lines: [{ catalogItemId: '00000000-0000-0000-0000-000000000001', quantity: 1 }] } },
      as(utc),
    );
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'CLUSTER_NOT_READY', module: 'pos', year: year + 1 });
  });
});

describe('years outside CLUSTER_YEARS_MIN..next year', () => {
  it.each([1999, year + 2, 1000, 99999])('visits(year: %i) is BAD_USER_INPUT', async (bad) => {
    const result = await app.gql(VISITS, { year: bad }, as(utc));
    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'year', min: 2000, max: year + 1 });
  });

  it('a visit dated outside the range is BAD_USER_INPUT and records nothing', async () => {
    const before = await app.gql<{ visits: unknown[] }>(VISITS, { year }, as(utc));
    const result = await app.gql(RECORD, { input: { patientId: utc.patientId, visitedAt: '1990-06-01T00:00:00Z' } }, as(utc));
    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'year' });
    const after = await app.gql<{ visits: unknown[] }>(VISITS, { year }, as(utc));
    expect(after.body.data!.visits.length).toBe(before.body.data!.visits.length);
  });
});
