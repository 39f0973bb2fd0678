import { randomBytes } from 'node:crypto';
import DataLoader from 'dataloader';
import { scopeLoader } from '../../tenancy/bootstrappers/index.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { groupedBy } from '../common/batch.js';
import { isUuid } from '../common/prisma-errors.js';
import { catalogItemLoader } from '../catalog/catalog.service.js';
import { getPatient } from '../patient/patient.service.js';
import { assertCluster, type ClusterDeps } from '../visit/visit.service.js';
import { type CreateInvoiceInput, type Invoice } from './invoice.type.js';

const MAX_TOTAL_CENTS = 2_147_483_647;

export async function listInvoices(context: ClusterDeps, year: number, patientId?: string | null): Promise<Invoice[]> {
  await assertCluster(context, 'pos', year);
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
      if (!(await context.services.clusterExists(context.db.tenantRecord(), 'pos', year))) return patientIds.map(() => []);
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
  const year = issuedAt.getUTCFullYear();
  if (input.lines.length === 0 || input.lines.length > 100) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'An invoice has 1 to 100 lines', { details: { field: 'lines' } });
  }
  for (const line of input.lines) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > 10_000) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'quantity must be a whole number from 1 to 10000', { details: { field: 'quantity' } });
    }
  }
  await assertCluster(context, 'pos', year);
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
  return context.db.cluster('pos', year).invoice.create({
    data: { patientId: input.patientId, issuedAt, totalCents, number: `INV-${year}-${randomBytes(4).toString('hex').toUpperCase()}`, lines: { create: lines } },
    include: { lines: { orderBy: { id: 'asc' } } },
  });
}
