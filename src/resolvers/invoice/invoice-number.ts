/**
 * Invoice numbers: `INV-<year>-<000001>`, sequential per tenant and year without gaps. The
 * number comes from the pos_<year> schema's counter row, incremented in the same transaction
 * that inserts the invoice: concurrent invoices queue on that row's lock, and an invoice that
 * fails rolls its number back with it (migrations/pos/0002_invoice_numbers.sql).
 */
import { type ClusterClient } from '../../tenancy/level-clients.js';

type InvoiceCreate = Parameters<ClusterClient['invoice']['create']>[0];
type InvoiceData = Omit<InvoiceCreate['data'], 'number'>;

/** `INV-2026-000042`. Six digits; a seventh appears after 999999 invoices in one year. */
export function formatInvoiceNumber(year: number, sequence: number): string {
  return `INV-${year}-${String(sequence).padStart(6, '0')}`;
}

/**
 * Inserts an invoice with the next number of `year` (the year of the pos_<year> schema `pos`
 * points at), in one transaction; returns it with its lines.
 */
export async function createNumberedInvoice(pos: ClusterClient, year: number, data: InvoiceData) {
  return pos.$transaction(
    async (tx) => {
      // UPDATE ... SET last_number = last_number + 1 RETURNING: takes the row lock until commit.
      const counter = await tx.invoiceCounter.update({ where: { id: 1 }, data: { lastNumber: { increment: 1 } } });
      return tx.invoice.create({
        data: { ...data, number: formatInvoiceNumber(year, counter.lastNumber) } as InvoiceCreate['data'],
        include: { lines: { orderBy: { id: 'asc' } } },
      });
    },
    // Invoices of one tenant and year queue on the counter row; each holds it for a few ms.
    { maxWait: 10_000, timeout: 15_000 },
  );
}
