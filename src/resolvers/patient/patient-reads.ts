/**
 * The patient list read on the hot path as one hand-written statement on the tenant client's own
 * pool (`rawRead`: every value a bind parameter; the client's pool view, connection budget,
 * statement tracking and tenant role apply as for any other statement of the client).
 *
 * Why not the query builder here: for the same page it costs about twice the server CPU (query
 * plan interpretation, and it reads every column, timestamps included, and normalises them);
 * measured side by side in bench/hot-reads.ts, figures in docs/BENCHMARKS.md. Why not `$queryRaw`
 * either (as before): Prisma's raw path (argument mapping, result-set conversion, deserialisation,
 * spans) was still about 9 % of the hot request's server CPU. Writes, reads off the hot path
 * (search) and the lookup by id (Prisma batches concurrent findUnique calls; a hand-written one
 * measured no cheaper) stay on the query builder.
 *
 * The table is named with the schema the client's adapter uses (`clientSchema`), so a SCHEMA
 * tenant's statement names its own schema and nothing else. Answers are pinned to the query
 * builder's in test/integration/hot-reads.test.ts.
 */
import { quoteIdent } from '../../infra/sql-names.js';
import { clientSchema, keepText, PG_DATE_OID, rawRead, type TenantClient } from '../../tenancy/level-clients.js';

/** A patient row as the query builder would give it, without the timestamps no answer shows. */
export type PatientRecord = {
  id: string;
  mrn: string;
  firstName: string;
  lastName: string;
  /** A date column: midnight UTC, as Prisma maps `@db.Date`. */
  birthDate: Date | null;
  email: string | null;
  phone: string | null;
};

type PatientRow = Omit<PatientRecord, 'birthDate'> & { birthDate: string | null };

const COLUMNS = 'id, mrn, first_name AS "firstName", last_name AS "lastName", birth_date AS "birthDate", email, phone';
const ORDER = 'ORDER BY last_name, first_name, id';
/** birth_date as PostgreSQL's text, mapped below as Prisma maps a date. */
const TYPES = keepText(PG_DATE_OID);

/**
 * Up to `limit` patients in list order (last name, first name, id), after a keyset position.
 * The row comparison is the query builder's `a > x OR (a = x AND b > y) OR …` in one condition,
 * under the same collation, and it reads patients_name_idx in order.
 */
export async function readPatientPage(db: TenantClient, limit: number, after: readonly [lastName: string, firstName: string, id: string] | null): Promise<PatientRecord[]> {
  const table = `${quoteIdent(clientSchema(db))}.patients`;
  const rows = after
    ? await rawRead<PatientRow>(db, `SELECT ${COLUMNS} FROM ${table} WHERE (last_name, first_name, id) > ($1, $2, $3::uuid) ${ORDER} LIMIT $4`, [after[0], after[1], after[2], limit], TYPES)
    : await rawRead<PatientRow>(db, `SELECT ${COLUMNS} FROM ${table} ${ORDER} LIMIT $1`, [limit], TYPES);
  return rows.map(toRecord);
}

/** Prisma's mapping of a date's text: `new Date(text)`, midnight UTC (patient-reads used `$queryRaw` before). */
function toRecord(row: PatientRow): PatientRecord {
  return { id: row.id, mrn: row.mrn, firstName: row.firstName, lastName: row.lastName, birthDate: row.birthDate === null ? null : new Date(row.birthDate), email: row.email, phone: row.phone };
}
