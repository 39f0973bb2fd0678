import DataLoader from 'dataloader';
import { scopeLoader } from '../../tenancy/bootstrappers/index.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { assertClusterWritable, clusterReadable, tenantYear, type ClusterDeps } from './cluster-guard.js';
import { groupedBy } from '../common/batch.js';
import { isUuid } from '../common/prisma-errors.js';
import { invalidFields, type FieldProblem } from '../common/validation.js';
import { getPatient } from '../patient/patient.service.js';
import { readVisitsOfPatients } from './visit-reads.js';
import { type RecordVisitInput, type Visit } from './visit.type.js';

export { type ClusterDeps } from './cluster-guard.js';

/** A year without a schema yet has no visits: []. */
export async function listVisits(context: ClusterDeps, year: number, patientId?: string | null): Promise<Visit[]> {
  if (!(await clusterReadable(context, 'emr', year))) return [];
  if (patientId && !isUuid(patientId)) return [];
  return context.db.cluster('emr', year).visit.findMany({
    where: patientId ? { patientId } : {},
    orderBy: [{ visitedAt: 'desc' }, { id: 'asc' }],
    take: 500,
  });
}

/** Visits of many patients in one query per year and request. */
export function visitsByPatientLoader(context: ClusterDeps, year: number): DataLoader<string, Visit[]> {
  return scopeLoader(context, `emr:${year}:visitsByPatient`, () =>
    new DataLoader<string, Visit[]>(async (patientIds) => {
      if (!(await clusterReadable(context, 'emr', year))) return patientIds.map(() => []);
      // Keys are patient ids from our own rows; anything else cannot have visits.
      const ids = patientIds.filter(isUuid);
      const rows = ids.length === 0 ? [] : await readVisitsOfPatients(context.db.cluster('emr', year), ids);
      return groupedBy(patientIds, rows, (row) => row.patientId);
    }),
  );
}

export async function recordVisit(context: ClusterDeps, input: RecordVisitInput): Promise<Visit> {
  const visitedAt = input.visitedAt ?? new Date();
  // Every bad field at once, before anything is looked up.
  const problems: FieldProblem[] = [];
  if (Number.isNaN(visitedAt.getTime())) problems.push({ field: 'visitedAt', message: 'visitedAt is not a date' });
  for (const field of ['reason', 'notes'] as const) {
    if ((input[field]?.length ?? 0) > 2000) problems.push({ field, message: `${field} is at most 2000 characters` });
  }
  if (problems.length > 0) throw invalidFields(problems);
  const year = tenantYear(context, visitedAt);
  await assertClusterWritable(context, 'emr', year);
  await getPatient(context.db.tenant(), input.patientId);
  if (input.practitionerId) {
    const found = isUuid(input.practitionerId) ? await context.db.group().practitioner.findUnique({ where: { id: input.practitionerId } }) : null;
    if (!found) throw new AppError(ErrorCode.NOT_FOUND, 'Practitioner not found');
  }
  return context.db.cluster('emr', year).visit.create({
    data: {
      patientId: input.patientId,
      practitionerId: input.practitionerId ?? null,
      visitedAt,
      reason: input.reason ?? null,
      notes: input.notes ?? null,
    },
  });
}
