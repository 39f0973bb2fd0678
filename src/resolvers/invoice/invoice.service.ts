import DataLoader from 'dataloader';
import { scopeLoader } from '../../tenancy/bootstrappers/index.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { groupedBy } from '../common/batch.js';
import { isUuid } from '../common/prisma-errors.js';
import { invalidFields, type FieldProblem } from '../common/validation.js';
import { catalogItemLoader } from '../catalog/catalog.service.js';
import { getPatient } from '../patient/patient.service.js';
import { assertClusterWritable, tenantYear, clusterReadable, type ClusterDeps } from '../visit/cluster-guard.js';
import { createNumberedInvoice } from './invoice-number.js';
import { type CreateInvoiceInput, type Invoice } from './invoice.type.js';

const MAX_TOTAL_CENTS = 2_147_483_647;

/** A year without a schema yet has no invoices: []. */
export async function listInvoices(context: ClusterDeps, year: number, patientId?: string | null): Promise<Invoice[]> {
  if (!(await clusterReadable(context, 'pos', year))) return [];
  if (patientId && !isUuid(patientId)) return [];
  return context.db.cluster('pos', year).invoice.findMany({
    where: patientId ? { patientId } : {},
    include: { lines: { orderBy: { id: 'asc' } } },
    orderBy: [{ issuedAt: 'desc' }, { id: 'asc' }],
    take: 500,
  });
}

/** Invoices (with lines) of many patients in one query per year and request. */
export function invoicesByPatientLoader(context: ClusterDeps, year: number): DataLoader<string, Invoice[]> {
  return scopeLoader(context, `pos:${year}:invoicesByPatient`, () =>
    new DataLoader<string, Invoice[]>(async (patientIds) => {
      if (!(await clusterReadable(context, 'pos', year))) return patientIds.map(() => []);
      const rows = await context.db.cluster('pos', year).invoice.findMany({
        where: { patientId: { in: [...patientIds] } },
        include: { lines: { orderBy: { id: 'asc' } } },
        orderBy: [{ issuedAt: 'desc' }, { id: 'asc' }],
      });
      return groupedBy(patientIds, rows, (row) => row.patientId);
    }),
  );
}

/** Prices come from the app's catalog at the time of invoicing; the total is computed here. */
export async function createInvoice(context: ClusterDeps, input: CreateInvoiceInput): Promise<Invoice> {
  const issuedAt = input.issuedAt ?? new Date();
  if (Number.isNaN(issuedAt.getTime())) throw new AppError(ErrorCode.BAD_USER_INPUT, 'issuedAt is not a date', { details: { field: 'issuedAt' } });
  const year = tenantYear(context, issuedAt);
  // Every bad field at once: `lines`, or `lines.<index>.quantity` for each bad line.
  const problems: FieldProblem[] = [];
  if (input.lines.length === 0 || input.lines.length > 100) problems.push({ field: 'lines', message: 'An invoice has 1 to 100 lines' });
  for (const [index, line] of input.lines.slice(0, 100).entries()) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > 10_000) {
      problems.push({ field: `lines.${index}.quantity`, message: 'quantity must be a whole number from 1 to 10000' });
    }
  }
  if (problems.length > 0) throw invalidFields(problems);
  await assertClusterWritable(context, 'pos', year);
  await getPatient(context.db.tenant(), input.patientId);
  const items = await catalogItemLoader(context).loadMany(input.lines.map((line) => (isUuid(line.catalogItemId) ? line.catalogItemId : '00000000-0000-0000-0000-000000000000')));
  const lines = input.lines.map((line, index) => {
    const item = items[index];
    if (!item || item instanceof Error) throw new AppError(ErrorCode.NOT_FOUND, `Catalog item ${line.catalogItemId} not found`);
    return { catalogItemId: item.id, quantity: line.quantity, unitPriceCents: item.priceCents };
  });
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  // total_cents is an int4 column (and a GraphQL Int): a larger total would fail in PostgreSQL.
  if (totalCents > MAX_TOTAL_CENTS) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `The invoice total may be at most ${MAX_TOTAL_CENTS} cents; split it into several invoices`, { details: { field: 'lines' } });
  }
  return createNumberedInvoice(context.db.cluster('pos', year), year, { patientId: input.patientId, issuedAt, totalCents, lines: { create: lines } });
}
