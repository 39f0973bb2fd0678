import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { tenantLevel } from '../../directives/tenant-level.directive.js';

@ObjectType({ description: "A visit, kept in the tenant's EMR cluster schema of its year (emr_<year>)." })
@Directive(tenantLevel('TENANT'))
export class Visit {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  patientId!: string;

  practitionerId!: string | null;

  @Field(() => Date)
  visitedAt!: Date;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  notes!: string | null;
}

@InputType()
export class RecordVisitInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => ID, { nullable: true, description: "A practitioner of the clinic's group." })
  practitionerId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Default now; its year picks the EMR cluster schema.' })
  visitedAt?: Date | null;

  @Field(() => String, { nullable: true })
  reason?: string | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;
}
