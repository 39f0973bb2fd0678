import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { tenantLevel } from '../../directives/tenant-level.directive.js';

@ObjectType({ description: 'A practitioner of a group of clinics (CENTRAL_TENANT level).' })
@Directive(tenantLevel('CENTRAL_TENANT'))
export class Practitioner {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  specialty!: string | null;
}
