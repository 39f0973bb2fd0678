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
import { type Patient } from './patient.type.js';

/** A row as pg gives it: the date as PostgreSQL's text (see TYPES). */
type PatientRow = Omit<Patient, 'birthDate'> & { birthDate: string | null };

const COLUMNS = 'id, mrn, first_name AS "firstName", last_name AS "lastName", birth_date AS "birthDate", email, phone';
const ORDER = 'ORDER BY last_name, first_name, id';
/** birth_date as PostgreSQL's text, answered below as the query builder path answers it. */
const TYPES = keepText(PG_DATE_OID);

/**
 * Up to `limit` patients in list order (last name, first name, id), after a keyset position.
 * The row comparison is the query builder's `a > x OR (a = x AND b > y) OR …` in one condition,
 * under the same collation, and it reads patients_name_idx in order.
 */
export async function readPatientPage(db: TenantClient, limit: number, after: readonly [lastName: string, firstName: string, id: string] | null): Promise<Patient[]> {
  const table = `${quoteIdent(clientSchema(db))}.patients`;
  const rows = after
    ? await rawRead<PatientRow>(db, `SELECT ${COLUMNS} FROM ${table} WHERE (last_name, first_name, id) > ($1, $2, $3::uuid) ${ORDER} LIMIT $4`, [after[0], after[1], after[2], limit], TYPES)
    : await rawRead<PatientRow>(db, `SELECT ${COLUMNS} FROM ${table} ${ORDER} LIMIT $1`, [limit], TYPES);
  // The rows become the answer's patients in place: one object per row, no copy.
  for (const row of rows) row.birthDate = row.birthDate === null ? null : dateAnswer(row.birthDate);
  return rows;
}

/** An ISO date of a four-digit year, the only shape the cheap path below may pass through. */
const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date's text as the query builder path answers it: Prisma maps the text with `new Date(text)`
 * (midnight UTC) and `toPatient` prints that back as YYYY-MM-DD. For a plain four-digit-year
 * date that round trip gives the text back unchanged, so it is skipped (a Date parse and print
 * per row were ~1 % of a hot request's CPU); anything else (BC, five-digit years, `infinity`)
 * takes the round trip, and answers, or fails, exactly as the query builder path does.
 */
function dateAnswer(text: string): string {
  return PLAIN_DATE.test(text) ? text : birthDateAnswer(new Date(text));
}

/** How a patient's birth date (a date column: midnight UTC) is answered: YYYY-MM-DD. */
export function birthDateAnswer(date: Date): string {
  return date.toISOString().slice(0, 10);
}
