import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../common/page-info.type.js';
import { Invitation } from '../account/member.type.js';
import { TenantIsolation, TenantLevel, TenantStatus } from '../common/tenant-level.enum.js';

@ObjectType({ description: 'A host name that reaches a tenant.' })
export class TenantDomain {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  domain!: string;

  @Field(() => Boolean)
  isPrimary!: boolean;

  @Field(() => Boolean)
  isVerified!: boolean;

  @Field(() => Date, { nullable: true })
  verifiedAt?: Date | null;
}

@ObjectType({ description: 'One step of a provisioning attempt.' })
export class ProvisioningStep {
  @Field(() => String, { description: 'storage, migrations, role, cluster-schemas, seeders, admin, domains or activate.' })
  name!: string;

  @Field(() => String, { description: 'PENDING, RUNNING, DONE, FAILED or UNDONE.' })
  status!: string;

  @Field(() => Int, { nullable: true })
  durationMs!: number | null;

  @Field(() => String, { nullable: true, description: 'Why it failed (never a credential).' })
  error!: string | null;
}

@ObjectType({ description: "A tenant's latest provisioning attempt and its steps." })
export class TenantProvisioning {
  @Field(() => String, { description: 'PENDING, RUNNING, UNDOING, ACTIVE or FAILED.' })
  status!: string;

  @Field(() => Int, { description: 'Counts from 1; retryProvisioning (or a takeover after a crash) adds one.' })
  attempt!: number;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The failed step and its cause (never a credential).' })
  error!: string | null;

  @Field(() => [ProvisioningStep])
  steps!: ProvisioningStep[];
}

@ObjectType({ description: 'An app, group or tenant of the hierarchy (central data; never credentials, except firstAdminInvitation in createTenant’s own answer).' })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => TenantLevel)
  level!: TenantLevel;

  @Field(() => TenantIsolation, { nullable: true, description: 'TENANT level only.' })
  isolation!: TenantIsolation | null;

  @Field(() => TenantStatus)
  status!: TenantStatus;

  @Field(() => Boolean)
  maintenance!: boolean;

  @Field(() => Invitation, {
    nullable: true,
    description:
      'Only in the answer of the createTenant that gave `admin`: the first admin’s one-time invitation (null when that account has a password already). Null in every other read: the server keeps only a hash.',
  })
  firstAdminInvitation?: Invitation | null;

  parentId!: string | null;

  /** Set on the public view of a tenant (currentTenant for an outsider): only slug, name and status resolve. */
  detailsHidden?: boolean;
}

@ObjectType()
export class TenantEdge {
  @Field(() => Tenant)
  node!: Tenant;

  @Field(() => String)
  cursor!: string;
}

@ObjectType({ description: 'Tenants ordered by slug.' })
export class TenantConnection {
  @Field(() => [TenantEdge])
  edges!: TenantEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class TenantFilter {
  @Field(() => TenantLevel, { nullable: true })
  level?: TenantLevel | null;

  @Field(() => TenantStatus, { nullable: true })
  status?: TenantStatus | null;

  @Field(() => ID, { nullable: true, description: 'Direct children of this tenant.' })
  parentId?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the slug or name.' })
  search?: string | null;
}

@ObjectType({ description: 'Where this request stands in the hierarchy.' })
export class CurrentTenant {
  @Field(() => TenantLevel)
  level!: TenantLevel;

  @Field(() => Tenant, { nullable: true, description: 'The app, group or tenant the request runs in; null at CENTRAL.' })
  tenant!: Tenant | null;

  @Field(() => Tenant, { nullable: true })
  app!: Tenant | null;

  @Field(() => Tenant, { nullable: true })
  group!: Tenant | null;
}

@ObjectType({ description: 'Who this request runs as.' })
export class Me {
  @Field(() => Boolean)
  authenticated!: boolean;

  @Field(() => String, { nullable: true })
  subject!: string | null;

  @Field(() => ID, { nullable: true, description: 'The tenant the token was issued for.' })
  tenantId!: string | null;

  @Field(() => [String])
  roles!: string[];

  @Field(() => [String])
  abilities!: string[];

  @Field(() => Boolean)
  isSystemAdmin!: boolean;

  @Field(() => String, { nullable: true, description: 'Set while an administrator impersonates this user.' })
  impersonatorId!: string | null;
}
