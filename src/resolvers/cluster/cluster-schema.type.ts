import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CLUSTER_STATUSES, type ClusterStatus } from '../../tenancy/clusters/cluster-generation.js';
import { enumObject, type ClusterModule as ClusterModuleName } from '../../tenancy/model.js';

/** GraphQL names the modules in capitals (EMR); storage and the CLI use the lower-case names. */
export const ClusterModule = { EMR: 'emr', POS: 'pos', SCM: 'scm' } as const satisfies Record<string, ClusterModuleName>;
registerEnumType(ClusterModule, { name: 'ClusterModule', description: 'A yearly module partition of a tenant (schemas emr_<year>, pos_<year>, scm_<year>).' });

export const ClusterSchemaStatus = enumObject(CLUSTER_STATUSES);
registerEnumType(ClusterSchemaStatus, { name: 'ClusterSchemaStatus' });

@ObjectType({ description: "One of a tenant's yearly cluster schemas and its state." })
export class ClusterSchema {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => String)
  tenantSlug!: string;

  @Field(() => ClusterModule)
  module!: ClusterModuleName;

  @Field(() => Int)
  year!: number;

  @Field(() => ClusterSchemaStatus)
  status!: ClusterStatus;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed (FAILED only).' })
  error!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}
