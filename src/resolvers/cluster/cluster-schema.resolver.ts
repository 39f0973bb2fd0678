import { Arg, Ctx, Directive, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { TENANT_ADMIN_ROLE } from '../../tenancy/identification/identification-types.js';
import { assertYearInRange, clusterYearRange } from '../../tenancy/cluster-years.js';
import { UUID_PATTERN, type ClusterModule as ClusterModuleName } from '../../tenancy/model.js';
import { ClusterModule, ClusterSchema } from './cluster-schema.type.js';

/**
 * System admins may name any tenant; an admin of a tenant (app, group or clinic), that tenant and
 * everything below it. Anyone else is FORBIDDEN; an unknown id is NOT_FOUND (after the check, so
 * ids outside one's subtree are not probed).
 */
async function assertMayManage(context: RequestContext, tenantId: string): Promise<void> {
  const principal = context.principal;
  if (principal.kind !== 'user') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token');
  if (principal.isSystemAdmin) return;
  if (principal.tenantId && principal.roles.includes(TENANT_ADMIN_ROLE) && UUID_PATTERN.test(tenantId)) {
    if (await context.services.clusterSchemas.isWithin(principal.tenantId, tenantId)) return;
  }
  throw new AppError(ErrorCode.FORBIDDEN, 'Only system administrators and administrators of this tenant or one above it manage its cluster schemas');
}

@Resolver(() => ClusterSchema)
export class ClusterSchemaResolver {
  @Mutation(() => [ClusterSchema], {
    description:
      "Makes a tenant's cluster schemas for a year (default modules: the plan's), in the background; an APP or group id means every clinic below it. Idempotent. Poll clusterSchemas for READY.",
  })
  @Directive(tenantLevel('CENTRAL'))
  async generateClusterSchemas(
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('year', () => Int) year: number,
    @Arg('modules', () => [ClusterModule], { nullable: true }) modules: ClusterModuleName[] | null,
    @Ctx() context: RequestContext,
  ): Promise<ClusterSchema[]> {
    await assertMayManage(context, tenantId);
    assertYearInRange(year, clusterYearRange(context.services.clusterYearsMin, 'UTC'));
    if (modules && modules.length === 0) throw new AppError(ErrorCode.BAD_USER_INPUT, 'modules, when given, names at least one module', { details: { field: 'modules' } });
    const rows = UUID_PATTERN.test(tenantId) ? await context.services.clusterSchemas.generate(tenantId, year, modules) : undefined;
    if (!rows) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
    return rows;
  }

  @Query(() => [ClusterSchema], { description: 'Cluster schemas of a tenant, or of every clinic below an APP or group, with their state.' })
  @Directive(tenantLevel('CENTRAL'))
  async clusterSchemas(@Arg('tenantId', () => ID) tenantId: string, @Ctx() context: RequestContext): Promise<ClusterSchema[]> {
    await assertMayManage(context, tenantId);
    if (!UUID_PATTERN.test(tenantId)) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
    return context.services.clusterSchemas.list(tenantId);
  }
}
