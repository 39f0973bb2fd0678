import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { PageInfo } from '../common/page-info.type.js';

@ObjectType({ description: "A patient of one clinic (TENANT level: lives in the clinic's own storage)." })
@Directive(tenantLevel('TENANT'))
export class Patient {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Medical record number, unique within the clinic.' })
  mrn!: string;

  @Field(() => String)
  firstName!: string;

  @Field(() => String)
  lastName!: string;

  /** Stored as a date; exposed as YYYY-MM-DD. */
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  birthDate?: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;
}

@ObjectType()
@Directive(tenantLevel('TENANT'))
export class PatientEdge {
  @Field(() => Patient)
  node!: Patient;

  @Field(() => String)
  cursor!: string;
}

@ObjectType({ description: 'Patients ordered by last name, first name.' })
@Directive(tenantLevel('TENANT'))
export class PatientConnection {
  @Field(() => [PatientEdge])
  edges!: PatientEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class CreatePatientInput {
  @Field(() => String)
  mrn!: string;

  @Field(() => String)
  firstName!: string;

  @Field(() => String)
  lastName!: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  birthDate?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;
}

@InputType({ description: 'Only the fields given are changed; null clears an optional field.' })
export class UpdatePatientInput {
  @Field(() => String, { nullable: true })
  mrn?: string | null;

  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  birthDate?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;
}
