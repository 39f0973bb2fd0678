/**
 * The visits DataLoader's batch as one hand-written statement through the cluster schema's own
 * Prisma client, for the reasons given in patient-reads.ts (half the server CPU of the query
 * builder for the same rows; every value a bind parameter; the table named with the client's own
 * schema). Pinned to the query builder's answers in test/integration/hot-reads.test.ts.
 */
import { Prisma } from '../../generated/cluster/client.js';
import { quoteIdent } from '../../infra/sql-names.js';
import { clientSchema, type ClusterClient } from '../../tenancy/level-clients.js';
import { type Visit } from './visit.type.js';

const COLUMNS = Prisma.sql`id, patient_id AS "patientId", practitioner_id AS "practitionerId", visited_at AS "visitedAt", reason, notes`;

/** Every visit of these patients (uuids: callers check), newest first, then by id. */
export function readVisitsOfPatients(db: ClusterClient, patientIds: readonly string[]): Promise<Visit[]> {
  const table = Prisma.raw(`${quoteIdent(clientSchema(db))}.visits`);
  return db.$queryRaw<Visit[]>`SELECT ${COLUMNS} FROM ${table} WHERE patient_id = ANY(${patientIds}::uuid[]) ORDER BY visited_at DESC, id`;
}
