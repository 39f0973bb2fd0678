import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { CatalogItem } from '../catalog/catalog-item.type.js';
import { catalogItemLoader } from '../catalog/catalog.service.js';
import { createInvoice, listInvoices } from './invoice.service.js';
import { CreateInvoiceInput, Invoice, InvoiceLine } from './invoice.type.js';

@Resolver(() => Invoice)
export class InvoiceResolver {
  @Query(() => [Invoice], { description: 'Invoices of a year (newest first, at most 500), optionally of one patient.' })
  @Directive(tenantLevel('TENANT'))
  invoices(
    @Arg('year', () => Int) year: number,
    @Arg('patientId', () => ID, { nullable: true }) patientId: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Invoice[]> {
    return listInvoices(context, year, patientId);
  }

  @Mutation(() => Invoice, { description: 'Creates an invoice priced from the app catalog, in the POS schema of its year.' })
  @Directive(tenantLevel('TENANT'))
  createInvoice(@Arg('input', () => CreateInvoiceInput) input: CreateInvoiceInput, @Ctx() context: RequestContext): Promise<Invoice> {
    return createInvoice(context, input);
  }
}

@Resolver(() => InvoiceLine)
export class InvoiceLineResolver {
  @FieldResolver(() => CatalogItem, { nullable: true, description: "From the app's catalog (batched per request)." })
  @Directive(tenantLevel('APP'))
  catalogItem(@Root() line: InvoiceLine, @Ctx() context: RequestContext): Promise<CatalogItem | null> {
    return catalogItemLoader(context).load(line.catalogItemId);
  }
}
