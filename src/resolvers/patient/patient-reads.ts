/**
 * The patient list read on the hot path as one hand-written statement through the tenant's own
 * Prisma client (`$queryRaw` tagged templates: every value is a bind parameter; the client's pool,
 * connection budget, statement tracking and tenant role apply as for any other statement).
 *
 * Why not the query builder here: for the same page it costs about twice the server CPU (query
 * plan interpretation, and it reads every column, timestamps included, and normalises them);
 * measured side by side in bench/hot-reads.ts, figures in docs/BENCHMARKS.md. Writes, reads off
 * the hot path (search) and the lookup by id (Prisma batches concurrent findUnique calls; a
 * hand-written one measured no cheaper) stay on the query builder.
 *
 * `$queryRaw` is not schema-qualified by the adapter: the table is named with the schema the
 * client's adapter uses (`clientSchema`), so a SCHEMA tenant's statement names its own schema and
 * nothing else. Answers are pinned to the query builder's in test/integration/hot-reads.test.ts.
 */
import { Prisma } from '../../generated/tenant/client.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { clientSchema, type TenantClient } from '../../tenancy/level-clients.js';

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

const COLUMNS = Prisma.sql`id, mrn, first_name AS "firstName", last_name AS "lastName", birth_date AS "birthDate", email, phone`;

function patientsTable(db: TenantClient): Prisma.Sql {
  return Prisma.raw(`${quoteIdent(clientSchema(db))}.patients`);
}

/**
 * Up to `limit` patients in list order (last name, first name, id), after a keyset position.
 * The row comparison is the query builder's `a > x OR (a = x AND b > y) OR …` in one condition,
 * under the same collation, and it reads patients_name_idx in order.
 */
export function readPatientPage(db: TenantClient, limit: number, after: readonly [lastName: string, firstName: string, id: string] | null): Promise<PatientRecord[]> {
  const where = after ? Prisma.sql`WHERE (last_name, first_name, id) > (${after[0]}, ${after[1]}, ${after[2]}::uuid)` : Prisma.empty;
  return db.$queryRaw<PatientRecord[]>`SELECT ${COLUMNS} FROM ${patientsTable(db)} ${where} ORDER BY last_name, first_name, id LIMIT ${limit}`;
}
