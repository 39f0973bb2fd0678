import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { PageInfo } from '../common/page-info.type.js';

@ObjectType({ description: 'One append-only audit row. Secrets in `details` are masked before they are stored.' })
export class AuditLogEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  tenantId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The acting account (the impersonated one, while impersonating).' })
  actorAccountId!: string | null;

  @Field(() => ID, { nullable: true })
  impersonatorAccountId!: string | null;

  @Field(() => String, { nullable: true, description: 'An actor that is not an account, e.g. `cli:<user>`.' })
  actorLabel!: string | null;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  targetType!: string | null;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { nullable: true })
  ipAddress!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { description: 'JSON text: what changed.' })
  details!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class AuditLogEdge {
  @Field(() => AuditLogEntry)
  node!: AuditLogEntry;

  @Field(() => String)
  cursor!: string;
}

@ObjectType({ description: 'Audit rows, newest first.' })
export class AuditLogConnection {
  @Field(() => [AuditLogEdge])
  edges!: AuditLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class AuditLogFilter {
  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => ID, { nullable: true })
  actorAccountId?: string | null;
}

