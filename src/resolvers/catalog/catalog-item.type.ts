import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { tenantLevel } from '../../directives/tenant-level.directive.js';

@ObjectType({ description: "An item of the app's catalog (APP level, shared by every clinic of the app)." })
@Directive(tenantLevel('APP'))
export class CatalogItem {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Int)
  priceCents!: number;
}
