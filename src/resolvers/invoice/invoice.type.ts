import { Directive, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { tenantLevel } from '../../directives/tenant-level.directive.js';

@ObjectType({ description: 'A line of an invoice; its catalog item lives at APP level.' })
@Directive(tenantLevel('TENANT'))
export class InvoiceLine {
  @Field(() => ID)
  id!: string;

  catalogItemId!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => Int)
  unitPriceCents!: number;
}

@ObjectType({ description: "An invoice, kept in the tenant's POS cluster schema of its year (pos_<year>)." })
@Directive(tenantLevel('TENANT'))
export class Invoice {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  patientId!: string;

  @Field(() => String)
  number!: string;

  @Field(() => Date)
  issuedAt!: Date;

  @Field(() => Int)
  totalCents!: number;

  @Field(() => [InvoiceLine])
  lines!: InvoiceLine[];
}

@InputType()
export class InvoiceLineInput {
  @Field(() => ID)
  catalogItemId!: string;

  @Field(() => Int)
  quantity!: number;
}

@InputType()
export class CreateInvoiceInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => Date, { nullable: true, description: 'Default now; its year picks the POS cluster schema.' })
  issuedAt?: Date | null;

  @Field(() => [InvoiceLineInput])
  lines!: InvoiceLineInput[];
}
