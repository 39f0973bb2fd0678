import { z } from 'zod';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type TenantClient } from '../../tenancy/level-clients.js';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.js';
import { isUuid, translatePrismaError } from '../common/prisma-errors.js';
import { parseInput } from '../common/validation.js';
import { type CreatePatientInput, type Patient, type PatientConnection, type UpdatePatientInput } from './patient.type.js';
import { birthDateAnswer, readPatientPage } from './patient-reads.js';

/** The columns a patient answer shows (the timestamps stay unread: mapping them costs CPU). */
const PATIENT_FIELDS = { id: true, mrn: true, firstName: true, lastName: true, birthDate: true, email: true, phone: true } as const;

/** A patient row of the query builder (PATIENT_FIELDS). */
type PatientRecord = { id: string; mrn: string; firstName: string; lastName: string; birthDate: Date | null; email: string | null; phone: string | null };

/** The GraphQL shape of a query builder row (the hot read gives that shape itself). */
export function toPatient(row: PatientRecord): Patient {
  return { id: row.id, mrn: row.mrn, firstName: row.firstName, lastName: row.lastName, birthDate: row.birthDate ? birthDateAnswer(row.birthDate) : null, email: row.email, phone: row.phone };
}

/**
 * An edge of a patient page. A class rather than an object literal with a getter: a literal's
 * getter is defined anew, through V8's runtime, for every row (~1 % of a hot request's CPU).
 * The cursor is made only when a query selects it: a list that shows rows only, the hot query,
 * skips encoding one per row.
 */
class PatientPageEdge {
  constructor(
    readonly node: Patient,
    private readonly tenantId: string,
  ) {}

  get cursor(): string {
    return encodeCursor(this.tenantId, [this.node.lastName, this.node.firstName, this.node.id]);
  }
}

/** A patient page's info; its end cursor, too, is made only when a query selects it. */
class PatientPageInfo {
  constructor(
    readonly hasNextPage: boolean,
    private readonly edges: readonly PatientPageEdge[],
  ) {}

  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
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
  const search = args.search?.trim();
  if (search && search.length > 100) throw new AppError(ErrorCode.BAD_USER_INPUT, 'search is at most 100 characters', { details: { field: 'search' } });
  const after = args.after ? (decodeCursor(args.after, tenantId, ['text', 'text', 'uuid']) as [string, string, string]) : null;
  // One row more than the page says whether there is a next one.
  const patients = search ? (await searchPatients(db, search, after, take + 1)).map(toPatient) : await readPatientPage(db, take + 1, after);
  const edges: PatientPageEdge[] = [];
  for (let i = 0; i < patients.length && i < take; i++) edges.push(new PatientPageEdge(patients[i]!, tenantId));
  return { edges, pageInfo: new PatientPageInfo(patients.length > take, edges) };
}

/**
 * A search page on the query builder (off the hot path): names containing `search` (any case) or
 * the exact MRN, in list order, after a keyset position.
 */
function searchPatients(db: TenantClient, search: string, after: readonly [string, string, string] | null, limit: number): Promise<PatientRecord[]> {
  const and: object[] = [
    {
      OR: [
        { lastName: { contains: search, mode: 'insensitive' } },
        { firstName: { contains: search, mode: 'insensitive' } },
        { mrn: { equals: search } },
      ],
    },
  ];
  if (after) {
    const [lastName, firstName, id] = after;
    and.push({
      OR: [
        { lastName: { gt: lastName } },
        { lastName, firstName: { gt: firstName } },
        { lastName, firstName, id: { gt: id } },
      ],
    });
  }
  return db.patient.findMany({ where: { AND: and }, select: PATIENT_FIELDS, orderBy: [{ lastName: 'asc' }, { firstName: 'asc' }, { id: 'asc' }], take: limit });
}

/** A patient of this tenant, or NOT_FOUND: the same answer for any id that is not ours. */
export async function getPatient(db: TenantClient, id: string): Promise<Patient> {
  // On the query builder: Prisma batches concurrent findUnique calls of a client into one
  // statement, and a hand-written read measured no cheaper (docs/BENCHMARKS.md, issue 13 items 2 and 3).
  const row = isUuid(id) ? await db.patient.findUnique({ where: { id }, select: PATIENT_FIELDS }) : null;
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Patient not found');
  return toPatient(row);
}

/**
 * Creates a patient. Under a plan's `maxPatients` the count and the insert run in one transaction
 * holding a per-tenant advisory lock, so concurrent creates cannot both pass the last free slot.
 * @param quota the tenant's id and its plan's limit (none: unlimited)
 */
export async function createPatient(db: TenantClient, input: CreatePatientInput, quota?: { tenantId: string; maxPatients?: number }): Promise<Patient> {
  const data = validatePatient(input, true) as Parameters<TenantClient['patient']['create']>[0]['data'];
  try {
    const max = quota?.maxPatients;
    if (quota === undefined || max === undefined) return toPatient(await db.patient.create({ data }));
    return toPatient(
      await db.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`quota:patients:${quota.tenantId}`}))`;
        const actual = await tx.patient.count();
        if (actual >= max) {
          throw new AppError(ErrorCode.QUOTA_EXCEEDED, `This tenant's plan allows at most ${max} patients`, { details: { limit: 'maxPatients', max, actual } });
        }
        return tx.patient.create({ data });
      }),
    );
  } catch (error) {
    if (error instanceof AppError) throw error;
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

/** Earlier dates are typing mistakes (and year 0 is not a date PostgreSQL and JavaScript agree on). */
const MIN_BIRTH_YEAR = 1800;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A required text of 1..100 characters once trimmed; null counts as missing. */
const text = (field: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? `${field} is required` : `${field} must be text`) })
    .trim()
    .min(1, `${field} must be 1 to 100 characters`)
    .max(100, `${field} must be 1 to 100 characters`);

const birthDate = z
  .string()
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && date <= new Date() && date.getUTCFullYear() >= MIN_BIRTH_YEAR;
  }, `birthDate must be a past date from ${MIN_BIRTH_YEAR} on, as YYYY-MM-DD`)
  .transform((value) => new Date(`${value}T00:00:00Z`))
  .nullable();

const email = z
  .string()
  .refine((value) => value.length <= 254 && EMAIL.test(value), 'email is not an e-mail address')
  .transform((value) => value.toLowerCase())
  .nullable();

const phone = z.string().regex(/^[0-9 +()-]{3,32}$/, 'phone may hold digits, spaces and + ( ) - only').nullable();

const optionalFields = { birthDate: birthDate.optional(), email: email.optional(), phone: phone.optional() };
const createSchema = z.object({ mrn: text('mrn'), firstName: text('firstName'), lastName: text('lastName'), ...optionalFields });
// Updates change only the fields given; the required ones cannot be cleared (null).
const updateSchema = z.object({ mrn: text('mrn').optional(), firstName: text('firstName').optional(), lastName: text('lastName').optional(), ...optionalFields });

/**
 * Checks and normalises patient fields, reporting every bad one at once (`extensions.fields`);
 * `creating` makes the required ones required. Fields not given stay out of the result.
 */
function validatePatient(input: CreatePatientInput | UpdatePatientInput, creating: boolean): Record<string, unknown> {
  // Only own, given fields: type-graphql input objects are class instances.
  const given = Object.fromEntries(Object.entries({ ...input }).filter(([, value]) => value !== undefined));
  const data = parseInput(creating ? createSchema : updateSchema, given);
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
}
