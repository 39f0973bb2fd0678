/**
 * The visits DataLoader's batch as one hand-written statement on the cluster schema client's own
 * pool (`rawRead`), for the reasons given in patient-reads.ts (half the server CPU of the query
 * builder for the same rows, and Prisma's raw-query machinery skipped as well; every value a bind
 * parameter; the table named with the client's own schema). Pinned to the query builder's answers
 * in test/integration/hot-reads.test.ts.
 */
import { quoteIdent } from '../../infra/sql-names.js';
import { clientSchema, keepText, PG_TIMESTAMPTZ_OID, rawRead, type ClusterClient } from '../../tenancy/level-clients.js';
import { type Visit } from './visit.type.js';

type VisitRow = Omit<Visit, 'visitedAt'> & { visitedAt: string };

const COLUMNS = 'id, patient_id AS "patientId", practitioner_id AS "practitionerId", visited_at AS "visitedAt", reason, notes';
/** visited_at as PostgreSQL's text, mapped below as Prisma maps a timestamptz. */
const TYPES = keepText(PG_TIMESTAMPTZ_OID);

/** Every visit of these patients (uuids: callers check), newest first, then by id. */
export async function readVisitsOfPatients(db: ClusterClient, patientIds: readonly string[]): Promise<Visit[]> {
  const table = `${quoteIdent(clientSchema(db))}.visits`;
  const rows = await rawRead<VisitRow>(db, `SELECT ${COLUMNS} FROM ${table} WHERE patient_id = ANY($1::uuid[]) ORDER BY visited_at DESC, id`, [patientIds], TYPES);
  return rows.map(toVisit);
}

/**
 * A timestamptz's text read exactly as @prisma/adapter-pg reads it (the offset replaced by
 * +00:00), then `new Date(text)` as Prisma's client does: the same value the query builder and the
 * former `$queryRaw` gave, whatever the session's TimeZone.
 */
function toVisit(row: VisitRow): Visit {
  const text = row.visitedAt.replace(' ', 'T').replace(/[+-]\d{2}(:\d{2})?$/, '+00:00');
  return { id: row.id, patientId: row.patientId, practitionerId: row.practitionerId, visitedAt: new Date(text), reason: row.reason, notes: row.notes };
}
