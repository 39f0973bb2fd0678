import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An account’s membership of a tenant: its role and abilities there.' })
export class Member {
  @Field(() => ID, { description: 'The membership id.' })
  id!: string;

  @Field(() => ID)
  accountId!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: 'admin or member.' })
  role!: string;

  @Field(() => [String])
  abilities!: string[];

  @Field(() => Date)
  createdAt!: Date;
}
