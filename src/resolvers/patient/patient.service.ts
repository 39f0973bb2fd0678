import { AppError, ErrorCode } from '../../errors/index.js';
import { type TenantClient } from '../../tenancy/level-clients.js';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.js';
import { isUuid, translatePrismaError } from '../common/prisma-errors.js';
import { type CreatePatientInput, type Patient, type PatientConnection, type UpdatePatientInput } from './patient.type.js';

type PatientRow = Awaited<ReturnType<TenantClient['patient']['findFirstOrThrow']>>;

export function toPatient(row: PatientRow): Patient {
  return { ...row, birthDate: row.birthDate ? row.birthDate.toISOString().slice(0, 10) : null };
}

/**
 * One page of the tenant's patients, keyset-paginated on (last_name, first_name, id).
 * @param tenantId binds cursors to this tenant
 */
export async function listPatients(
  db: TenantClient,
  tenantId: string,
  args: { first?: number | null; after?: string | null; search?: string | null },
): Promise<PatientConnection> {
  const take = pageSize(args.first);
  const where: NonNullable<Parameters<TenantClient['patient']['findMany']>[0]>['where'] & object = {};
  const and: object[] = [];
  const search = args.search?.trim();
  if (search) {
    if (search.length > 100) throw new AppError(ErrorCode.BAD_USER_INPUT, 'search is at most 100 characters', { details: { field: 'search' } });
    and.push({
      OR: [
        { lastName: { contains: search, mode: 'insensitive' } },
        { firstName: { contains: search, mode: 'insensitive' } },
        { mrn: { equals: search } },
      ],
    });
  }
  if (args.after) {
    const [lastName, firstName, id] = decodeCursor(args.after, tenantId, ['text', 'text', 'uuid']) as [string, string, string];
    and.push({
      OR: [
        { lastName: { gt: lastName } },
        { lastName, firstName: { gt: firstName } },
        { lastName, firstName, id: { gt: id } },
      ],
    });
  }
  if (and.length > 0) Object.assign(where, { AND: and });
  const rows = await db.patient.findMany({ where, orderBy: [{ lastName: 'asc' }, { firstName: 'asc' }, { id: 'asc' }], take: take + 1 });
  const page = rows.slice(0, take);
  const edges = page.map((row) => ({ node: toPatient(row), cursor: encodeCursor(tenantId, [row.lastName, row.firstName, row.id]) }));
  return { edges, pageInfo: { hasNextPage: rows.length > take, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** A patient of this tenant, or NOT_FOUND: the same answer for any id that is not ours. */
export async function getPatient(db: TenantClient, id: string): Promise<Patient> {
  const row = isUuid(id) ? await db.patient.findUnique({ where: { id } }) : null;
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Patient not found');
  return toPatient(row);
}

export async function createPatient(db: TenantClient, input: CreatePatientInput): Promise<Patient> {
  const data = validatePatient(input, true);
  try {
    return toPatient(await db.patient.create({ data: data as Parameters<TenantClient['patient']['create']>[0]['data'] }));
  } catch (error) {
    throw translatePrismaError(error, 'Patient');
  }
}

export async function updatePatient(db: TenantClient, id: string, input: UpdatePatientInput): Promise<Patient> {
  if (!isUuid(id)) throw new AppError(ErrorCode.NOT_FOUND, 'Patient not found');
  const data = validatePatient(input, false);
  try {
    return toPatient(await db.patient.update({ where: { id }, data }));
  } catch (error) {
    throw translatePrismaError(error, 'Patient');
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Earlier dates are typing mistakes (and year 0 is not a date PostgreSQL and JavaScript agree on). */
const MIN_BIRTH_YEAR = 1800;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks and normalises patient fields; `creating` makes the required ones required. */
function validatePatient(input: CreatePatientInput | UpdatePatientInput, creating: boolean) {
  const data: Record<string, unknown> = {};
  for (const field of ['mrn', 'firstName', 'lastName'] as const) {
    const value = input[field];
    if (value === undefined || value === null) {
      if (creating || value === null) throw new AppError(ErrorCode.BAD_USER_INPUT, `${field} is required`, { details: { field } });
      continue;
    }
    const trimmed = value.trim();
    if (trimmed === '' || trimmed.length > 100) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `${field} must be 1 to 100 characters`, { details: { field } });
    }
    data[field] = trimmed;
  }
  if (input.birthDate !== undefined) {
    if (input.birthDate === null) data.birthDate = null;
    else {
      const date = new Date(`${input.birthDate}T00:00:00Z`);
      if (
        !DATE.test(input.birthDate) ||
        Number.isNaN(date.getTime()) ||
        date.toISOString().slice(0, 10) !== input.birthDate ||
        date > new Date() ||
        date.getUTCFullYear() < MIN_BIRTH_YEAR
      ) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `birthDate must be a past date from ${MIN_BIRTH_YEAR} on, as YYYY-MM-DD`, { details: { field: 'birthDate' } });
      }
      data.birthDate = date;
    }
  }
  if (input.email !== undefined) {
    if (input.email !== null && (!EMAIL.test(input.email) || input.email.length > 254)) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'email is not an e-mail address', { details: { field: 'email' } });
    }
    data.email = input.email?.toLowerCase() ?? null;
  }
  if (input.phone !== undefined) {
    if (input.phone !== null && !/^[0-9 +()-]{3,32}$/.test(input.phone)) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'phone may hold digits, spaces and + ( ) - only', { details: { field: 'phone' } });
    }
    data.phone = input.phone;
  }
  return data;
}
