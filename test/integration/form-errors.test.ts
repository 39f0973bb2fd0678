/**
 * Errors a form can use, over real HTTP: every bad field at once (`extensions.fields`), CONFLICT
 * naming its field, and invoice numbers INV-<year>-<000001> without gaps or duplicates under
 * 50 concurrent createInvoice calls.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
let auth: Record<string, string>;
let itemId: string;
let patientId: string;
let clinic: Awaited<ReturnType<typeof makeClinic>>;

const CREATE = 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id mrn } }';
const UPDATE = 'mutation($id: ID!, $input: UpdatePatientInput!) { updatePatient(id: $id, input: $input) { id mrn email } }';
const INVOICE = 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id number totalCents } }';

type FieldError = { message: string; extensions: { code: string; field?: string; fields?: { field: string; message: string }[] } };

beforeAll(async () => {
  app = await startTestApp();
  const hierarchy = await makeHierarchy(app.tenancy);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE');
  const appLease = app.tenancy.registry.lease(app.tenancy.strategyFor(hierarchy.app).connectionTarget(hierarchy.app), 'app');
  try {
    itemId = (await appLease.client.catalogItem.create({ data: { code: 'FORM-1', name: 'Consultation', priceCents: 2500 } })).id;
  } finally {
    appLease.release();
  }
  auth = { authorization: `Bearer ${await app.token({ subject: 'form-user', tenantId: clinic.id, roles: ['admin'] })}` };
  const created = await app.gql<{ createPatient: { id: string } }>(CREATE, { input: { mrn: 'FORM-0001', firstName: 'Ada', lastName: 'Lovelace' } }, auth);
  expect(created.body.errors).toBeUndefined();
  patientId = created.body.data!.createPatient.id;
});
afterAll(() => app?.stop());

async function patientCount(): Promise<number> {
  const result = await app.gql<{ patients: { edges: unknown[] } }>('{ patients(first: 100) { edges { cursor } } }', {}, auth);
  return result.body.data!.patients.edges.length;
}

describe('validation reports every bad field at once', () => {
  it('createPatient: missing, too long, not an e-mail, bad date and phone, all in extensions.fields', async () => {
    const before = await patientCount();
    const result = await app.gql(CREATE, { input: { mrn: '   ', firstName: 'x'.repeat(101), lastName: 'Ok', email: 'not-an-email', birthDate: '2020-02-30', phone: 'call me' } }, auth);
    expect(result.status).toBe(400);
    expect(result.body.errors).toHaveLength(1);
    const error = result.body.errors![0] as FieldError;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.fields).toEqual([
      { field: 'mrn', message: 'mrn must be 1 to 100 characters' },
      { field: 'firstName', message: 'firstName must be 1 to 100 characters' },
      { field: 'birthDate', message: 'birthDate must be a past date from 1800 on, as YYYY-MM-DD' },
      { field: 'email', message: 'email is not an e-mail address' },
      { field: 'phone', message: 'phone may hold digits, spaces and + ( ) - only' },
    ]);
    // One-field clients still get the first one.
    expect(error.extensions.field).toBe('mrn');
    expect(error.message).toBe('mrn must be 1 to 100 characters (and 4 more: firstName, birthDate, email, phone)');
    expect(await patientCount()).toBe(before);
  });

  it('updatePatient: the required fields cannot be cleared, and each bad field is named', async () => {
    const result = await app.gql(UPDATE, { id: patientId, input: { lastName: null, firstName: null, email: 'still not' } }, auth);
    const error = result.body.errors![0] as FieldError;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.fields!.map((f) => f.field)).toEqual(['firstName', 'lastName', 'email']);
    expect(error.extensions.fields![0]!.message).toBe('firstName is required');
    const unchanged = await app.gql<{ patient: { email: string | null } }>('query($id: ID!) { patient(id: $id) { email } }', { id: patientId }, auth);
    expect(unchanged.body.data!.patient.email).toBeNull();
  });

  it('a single bad field is reported alone, and good input still works (trimmed, lower-cased)', async () => {
    const bad = await app.gql(UPDATE, { id: patientId, input: { email: 'nope' } }, auth);
    expect((bad.body.errors![0] as FieldError).extensions.fields).toEqual([{ field: 'email', message: 'email is not an e-mail address' }]);
    expect(bad.body.errors![0]!.message).toBe('email is not an e-mail address');
    const good = await app.gql<{ updatePatient: { email: string } }>(UPDATE, { id: patientId, input: { email: 'Ada@Example.COM' } }, auth);
    expect(good.body.errors).toBeUndefined();
    expect(good.body.data!.updatePatient.email).toBe('ada@example.com');
  });

  it('createInvoice and recordVisit name each bad line and field too', async () => {
    const invoice = await app.gql(
      INVOICE,
      { input: { patientId, lines: [{ catalogItemId: itemId, quantity: 0 }, { catalogItemId: itemId, quantity: 1 }, { catalogItemId: itemId, quantity: 20_000 }] } },
      auth,
    );
    expect((invoice.body.errors![0] as FieldError).extensions.fields!.map((f) => f.field)).toEqual(['lines.0.quantity', 'lines.2.quantity']);
    const visit = await app.gql('mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }', { input: { patientId, reason: 'r'.repeat(2001), notes: 'n'.repeat(2001) } }, auth);
    expect((visit.body.errors![0] as FieldError).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [
        { field: 'reason', message: 'reason is at most 2000 characters' },
        { field: 'notes', message: 'notes is at most 2000 characters' },
      ],
    });
  });
});

describe('CONFLICT names its field', () => {
  it('a duplicate MRN answers CONFLICT with field mrn, on create and on update', async () => {
    const duplicate = await app.gql(CREATE, { input: { mrn: 'FORM-0001', firstName: 'Other', lastName: 'Person' } }, auth);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT', field: 'mrn' } });
    expect(duplicate.body.errors![0]!.message).toMatch(/mrn/);

    const second = await app.gql<{ createPatient: { id: string } }>(CREATE, { input: { mrn: 'FORM-0002', firstName: 'Second', lastName: 'Person' } }, auth);
    const clash = await app.gql(UPDATE, { id: second.body.data!.createPatient.id, input: { mrn: 'FORM-0001' } }, auth);
    expect(clash.body.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT', field: 'mrn' } });
  });
});

describe('invoice numbers', () => {
  it('50 concurrent createInvoice calls get INV-<year>-000001..000050, without gaps or duplicates', async () => {
    const year = new Date().getUTCFullYear();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => app.gql<{ createInvoice: { number: string } }>(INVOICE, { input: { patientId, lines: [{ catalogItemId: itemId, quantity: 2 }] } }, auth)),
    );
    for (const result of results) expect(result.body.errors).toBeUndefined();
    const numbers = results.map((result) => result.body.data!.createInvoice.number).sort();
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => `INV-${year}-${String(i + 1).padStart(6, '0')}`));

    // A failed invoice (unknown catalog item) uses no number: the next one is 51.
    const failed = await app.gql(INVOICE, { input: { patientId, lines: [{ catalogItemId: '00000000-0000-4000-8000-000000000000', quantity: 1 }] } }, auth);
    expect(failed.body.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const next = await app.gql<{ createInvoice: { number: string } }>(INVOICE, { input: { patientId, lines: [{ catalogItemId: itemId, quantity: 1 }] } }, auth);
    expect(next.body.data!.createInvoice.number).toBe(`INV-${year}-000051`);
  });

  it('the migration renumbers invoices made before it into the same format and sets the counter', async () => {
    // Replay migrations/pos/0002 on a scratch schema holding invoices in the old shapes.
    const pool = new pg.Pool({ connectionString: app.central.url, max: 1 });
    const schema = `form_renumber_${Date.now()}`;
    try {
      const { readFile } = await import('node:fs/promises');
      const first = await readFile(new URL('../../migrations/pos/0001_invoices.sql', import.meta.url), 'utf8');
      const second = await readFile(new URL('../../migrations/pos/0002_invoice_numbers.sql', import.meta.url), 'utf8');
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}, public;`);
        await client.query(first);
        await client.query(`INSERT INTO invoices (patient_id, number, issued_at) VALUES
          (gen_random_uuid(), 'INV-2026-39D3DE49', '2026-03-01T10:00:00Z'),
          (gen_random_uuid(), 'INV-2026-00', '2026-01-05T10:00:00Z')`);
        await client.query(second);
        const rows = await client.query<{ number: string }>('SELECT number FROM invoices ORDER BY issued_at');
        expect(rows.rows.map((row) => row.number)).toEqual(['INV-2026-000001', 'INV-2026-000002']);
        const counter = await client.query<{ last_number: number }>('SELECT last_number FROM invoice_counters');
        expect(counter.rows).toEqual([{ last_number: 2 }]);
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});
