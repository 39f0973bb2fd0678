/**
 * From one database to many (`tenantgraph import:single-db`): reads a single-database clinic app
 * in which every row carries a tenant column, provisions one TENANT per distinct value under a
 * group, copies that clinic's rows into it and checks the row counts per table.
 *
 * The source is opened read-only (`default_transaction_read_only`), so nothing in it can change.
 * Expected source tables (schema `public`; extra columns are ignored):
 *
 *   patients      (id uuid, <tenant column>, mrn, first_name, last_name, birth_date, email, phone)
 *   practitioners (id uuid, <tenant column>, name, specialty, email)      → the group's schema
 *   visits        (id uuid, <tenant column>, patient_id, practitioner_id, visited_at, reason, notes) → emr_<year>
 *   invoices      (id uuid, <tenant column>, patient_id, number, issued_at, total_cents)            → pos_<year>
 *
 * Years are taken in UTC (new tenants start with timezone UTC). Invoice lines are not imported:
 * they name catalog items of the app, which a single-database source does not share.
 */
import pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';
import { CLUSTER_YEARS, type Isolation } from '../model.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { provisionTenant } from '../provisioning/provision-tenant.js';

export type GroupRecord = StorageRecord & { slug: string };
import { type Tenancy } from '../tenancy.js';
import { inTransaction } from '../../infra/db-transaction.js';

export const SOURCE_TABLES = {
  patients: ['id', 'mrn', 'first_name', 'last_name', 'birth_date', 'email', 'phone'],
  practitioners: ['id', 'name', 'specialty', 'email'],
  visits: ['id', 'patient_id', 'practitioner_id', 'visited_at', 'reason', 'notes'],
  invoices: ['id', 'patient_id', 'number', 'issued_at', 'total_cents'],
} as const;
type Table = keyof typeof SOURCE_TABLES;
const TABLES = Object.keys(SOURCE_TABLES) as Table[];

export const TENANT_COLUMN = /^[a-z_][a-z0-9_]{0,62}$/;

export type ImportPlanItem = { value: string; key: string; slug: string; years: number[]; counts: Record<Table, number> };

export class ImportRefusedError extends Error {
  override readonly name = 'ImportRefusedError';
}

/** A read-only pool on the source: any write in it fails in PostgreSQL itself. */
export function openSource(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: '-c default_transaction_read_only=on', application_name: 'tenantgraph:import' });
  pool.on('error', () => {});
  return pool;
}

/** Key of the tenant made for a tenant-column value: `imp_<value>` in lower-case letters, digits and `_`. */
export function keyFor(value: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 36);
  return `imp_${cleaned || 'x'}`;
}

/** What would be imported, checked before anything is made: the tables exist, keys are free and unique. */
export async function planImport(tenancy: Tenancy, source: pg.Pool, column: string): Promise<ImportPlanItem[]> {
  if (!TENANT_COLUMN.test(column)) throw new ImportRefusedError(`--tenant-column ${JSON.stringify(column)} is not a column name`);
  const col = quoteIdent(column);
  for (const table of TABLES) {
    const { rows } = await source.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
      [table],
    );
    const have = new Set(rows.map((row) => row.column_name));
    const missing = [column, ...SOURCE_TABLES[table]].filter((name) => !have.has(name));
    if (missing.length > 0) throw new ImportRefusedError(`source table ${table} lacks ${missing.join(', ')}`);
  }
  const { rows } = await source.query<{ value: string }>(
    TABLES.map((table) => `SELECT ${col}::text AS value FROM ${table} WHERE ${col} IS NOT NULL`).join(' UNION ') + ' ORDER BY value',
  );
  const plan: ImportPlanItem[] = [];
  for (const { value } of rows) {
    const counts = {} as Record<Table, number>;
    for (const table of TABLES) {
      const result = await source.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${col}::text = $1`, [value]);
      counts[table] = result.rows[0]!.n;
    }
    const years = await source.query<{ year: number }>(
      `SELECT DISTINCT extract(year FROM visited_at AT TIME ZONE 'UTC')::int AS year FROM visits WHERE ${col}::text = $1
       UNION SELECT DISTINCT extract(year FROM issued_at AT TIME ZONE 'UTC')::int FROM invoices WHERE ${col}::text = $1 ORDER BY 1`,
      [value],
    );
    const key = keyFor(value);
    plan.push({ value, key, slug: key.replace(/_/g, '-'), years: years.rows.map((row) => row.year), counts });
  }
  const keys = plan.map((item) => item.key);
  const duplicate = keys.find((key, index) => keys.indexOf(key) !== index);
  if (duplicate) throw new ImportRefusedError(`two tenant values map to the key ${duplicate}; rename one in the source`);
  const bad = plan.flatMap((item) => item.years.filter((year) => year < CLUSTER_YEARS.min || year > CLUSTER_YEARS.max).map((year) => `${item.value}: ${year}`));
  if (bad.length > 0) throw new ImportRefusedError(`records dated outside ${CLUSTER_YEARS.min}..${CLUSTER_YEARS.max}: ${bad.join(', ')}`);
  const taken = await tenancy.central.query<{ slug: string }>('SELECT slug FROM tenants WHERE slug = ANY($1::text[]) OR key = ANY($2::text[])', [plan.map((p) => p.slug), keys]);
  if (taken.rows.length > 0) throw new ImportRefusedError(`tenants already exist: ${taken.rows.map((row) => row.slug).join(', ')}`);
  return plan;
}

/** Provisions the clinic of one plan item, copies its rows and verifies the counts; throws on any mismatch. */
export async function importOne(
  tenancy: Tenancy,
  source: pg.Pool,
  column: string,
  group: GroupRecord,
  item: ImportPlanItem,
  isolation: Isolation,
): Promise<{ tenantId: string; slug: string; copied: Record<Table, number> }> {
  const col = quoteIdent(column);
  const read = async (table: Table) =>
    (await source.query(`SELECT ${SOURCE_TABLES[table].map(quoteIdent).join(', ')} FROM ${table} WHERE ${col}::text = $1 ORDER BY id`, [item.value])).rows;
  const clinic = await provisionTenant(tenancy, {
    level: 'TENANT',
    parentId: group.id,
    key: item.key,
    slug: item.slug,
    name: `Clinic ${item.value}`,
    isolation,
    clusterYears: [...new Set([...item.years, new Date().getUTCFullYear()])],
  });
  const insert = async (client: pg.PoolClient | pg.Pool, schema: string, table: string, columns: readonly string[], rows: unknown[]): Promise<void> => {
    if (rows.length === 0) return;
    await client.query(
          `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')})
           SELECT ${columns.map(quoteIdent).join(', ')} FROM json_populate_recordset(NULL::${quoteIdent(schema)}.${quoteIdent(table)}, $1) ON CONFLICT (id) DO NOTHING`,
          [JSON.stringify(rows)],
        );
  };

  // Practitioners live in the group's schema, shared by its clinics.
  const practitionerRows = await read('practitioners');
  await tenancy.strategyFor(group).withStoragePool(group, (pool) => insert(pool, group.schemaName!, 'practitioners', SOURCE_TABLES.practitioners, practitionerRows));

  const [patients, visits, invoices] = await Promise.all([read('patients'), read('visits'), read('invoices')]);
  const copied = await tenancy.strategyFor(clinic).withStoragePool(clinic, async (pool) => {
    await inTransaction(pool, async (client) => {
      await insert(client, clinic.schemaName!, 'patients', SOURCE_TABLES.patients, patients);
      for (const [module, table, rows, dateColumn, columns] of [
        ['emr', 'visits', visits, 'visited_at', SOURCE_TABLES.visits],
        ['pos', 'invoices', invoices, 'issued_at', SOURCE_TABLES.invoices],
      ] as const) {
        for (const year of item.years) {
          const ofYear = rows.filter((row) => new Date(row[dateColumn] as string).getUTCFullYear() === year);
          await insert(client, tenancy.naming.clusterSchema(clinic, module, year), table, columns, ofYear);
        }
      }
    });
    const count = async (schema: string, table: string) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(schema)}.${quoteIdent(table)}`)).rows[0]!.n;
    let visitsCopied = 0;
    let invoicesCopied = 0;
    for (const year of item.years) {
      visitsCopied += await count(tenancy.naming.clusterSchema(clinic, 'emr', year), 'visits');
      invoicesCopied += await count(tenancy.naming.clusterSchema(clinic, 'pos', year), 'invoices');
    }
    return { patients: await count(clinic.schemaName!, 'patients'), visits: visitsCopied, invoices: invoicesCopied };
  });
  const practitioners = await tenancy.central.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${quoteIdent(group.schemaName!)}.practitioners WHERE id = ANY($1::uuid[])`,
    [practitionerRows.map((row) => row.id as string)],
  );
  const result = { ...copied, practitioners: practitioners.rows[0]!.n };
  const mismatched = TABLES.filter((table) => result[table] !== item.counts[table]);
  if (mismatched.length > 0) {
    throw new Error(`row counts differ for ${item.slug}: ${mismatched.map((table) => `${table} source ${item.counts[table]}, copied ${result[table]}`).join('; ')}`);
  }
  return { tenantId: clinic.id, slug: clinic.slug, copied: result };
}
