import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { FleetBusyError } from '../../tenancy/fleet/fleet-migration.js';
import { FleetSelectionError } from '../../tenancy/fleet/fleet-targets.js';
import { SLUG_PATTERN, UUID_PATTERN } from '../../tenancy/model.js';
import { Tenant } from '../tenant/tenant.type.js';
import { tenantByIdLoader } from '../tenant/tenant.service.js';
import { MigrateTenantsInput, MigrationRun, MigrationRunItem } from './migration-run.type.js';

@Resolver(() => MigrationRun)
export class MigrationRunResolver {
  @Mutation(() => MigrationRun, {
    description:
      'Starts a fleet migration in the background of this server process (system admins). One at a time: CONFLICT while another runs. Follow it with migrationRun(id).',
  })
  @Directive(tenantLevel('CENTRAL'))
  async migrateTenants(@Arg('input', () => MigrateTenantsInput) input: MigrateTenantsInput, @Ctx() context: RequestContext): Promise<MigrationRun> {
    const parallel = input.parallel ?? 8;
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'parallel is a whole number from 1 to 64', { details: { field: 'parallel' } });
    }
    const slugs = input.tenants ?? undefined;
    if (slugs && (slugs.length === 0 || slugs.length > 1000 || slugs.some((slug) => !SLUG_PATTERN.test(slug)))) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'tenants is a list of 1 to 1000 tenant slugs', { details: { field: 'tenants' } });
    }
    const principal = context.principal;
    const requestedBy = principal.kind === 'user' ? `user:${principal.subject}` : principal.kind;
    try {
      return await context.services.fleetMigrations.start({ tenantSlugs: slugs, level: input.level ?? undefined, parallel, requestedBy });
    } catch (error) {
      if (error instanceof FleetBusyError) throw new AppError(ErrorCode.CONFLICT, error.message);
      if (error instanceof FleetSelectionError) throw new AppError(ErrorCode.BAD_USER_INPUT, error.message, { details: { field: 'tenants' } });
      throw error;
    }
  }

  @Query(() => MigrationRun, { description: 'A fleet migration run and its progress (system admins).' })
  @Directive(tenantLevel('CENTRAL'))
  async migrationRun(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<MigrationRun> {
    const run = UUID_PATTERN.test(id) ? await context.services.fleetMigrations.run(id) : undefined;
    if (!run) throw new AppError(ErrorCode.NOT_FOUND, 'Migration run not found');
    return run;
  }

  @FieldResolver(() => [MigrationRunItem], { description: 'Tenants of the run in run order; `after` is an item cursor.' })
  async items(
    @Root() run: MigrationRun,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<MigrationRunItem[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new AppError(ErrorCode.BAD_USER_INPUT, 'first is 1 to 500', { details: { field: 'first' } });
    const position = after === null || after === undefined ? undefined : Number(after);
    if (position !== undefined && (!Number.isInteger(position) || position < 0)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor of this list', { details: { field: 'after' } });
    const items = await context.services.fleetMigrations.items(run.id, first, position);
    return items.map((item) => ({
      tenantId: item.tenantId,
      cursor: String(item.position),
      tenantSlug: item.slug,
      status: item.status,
      error: item.error,
      applied: item.applied.map((file) => `${file.target} ${file.file}`),
      durationMs: item.durationMs,
    }));
  }
}

@Resolver(() => MigrationRunItem)
export class MigrationRunItemResolver {
  @FieldResolver(() => Tenant, { nullable: true, description: 'Null once the tenant is deleted.' })
  tenant(@Root() item: MigrationRunItem, @Ctx() context: RequestContext): Promise<Tenant | null> {
    return tenantByIdLoader(context).load(item.tenantId);
  }
}
