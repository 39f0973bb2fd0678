import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { enumObject } from '../../tenancy/model.js';
import { FLEET_LEVELS } from '../../tenancy/fleet/fleet-targets.js';
import { ITEM_STATUSES, RUN_STATUSES } from '../../tenancy/fleet/migration-runs.js';

export const MigrationLevel = enumObject(FLEET_LEVELS);
export type MigrationLevel = (typeof FLEET_LEVELS)[number];
registerEnumType(MigrationLevel, { name: 'MigrationLevel', description: 'A tenant level, or CLUSTER for the yearly cluster schemas.' });

export const MigrationRunStatus = enumObject(RUN_STATUSES);
export type MigrationRunStatus = (typeof RUN_STATUSES)[number];
registerEnumType(MigrationRunStatus, { name: 'MigrationRunStatus' });

export const MigrationItemStatus = enumObject(ITEM_STATUSES);
export type MigrationItemStatus = (typeof ITEM_STATUSES)[number];
registerEnumType(MigrationItemStatus, { name: 'MigrationItemStatus' });

@InputType()
export class MigrateTenantsInput {
  @Field(() => [String], { nullable: true, description: 'Tenant slugs; an APP or group slug means its subtree. Default every live tenant.' })
  tenants?: string[] | null;

  @Field(() => MigrationLevel, { nullable: true, description: 'Only this level; default every level.' })
  level?: MigrationLevel | null;

  @Field(() => Int, { nullable: true, description: 'Tenants at once, 1 to 64; default 8.' })
  parallel?: number | null;
}

@ObjectType({ description: "One tenant's part in a fleet migration run." })
export class MigrationRunItem {
  tenantId!: string;

  @Field(() => String)
  cursor!: string;

  @Field(() => String)
  tenantSlug!: string;

  @Field(() => MigrationItemStatus)
  status!: MigrationItemStatus;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => [String], { description: 'Files applied, as `target file`.' })
  applied!: string[];

  @Field(() => Int, { nullable: true })
  durationMs!: number | null;
}

@ObjectType({ description: 'A fleet migration run (tenantgraph tenants:migrate or migrateTenants), recorded in the central database.' })
export class MigrationRun {
  @Field(() => ID)
  id!: string;

  @Field(() => MigrationRunStatus)
  status!: MigrationRunStatus;

  @Field(() => MigrationLevel, { nullable: true })
  level!: MigrationLevel | null;

  @Field(() => Int)
  total!: number;

  @Field(() => Int)
  done!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Int, { description: 'Not started or in flight.' })
  pending!: number;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
