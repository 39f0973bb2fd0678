import { Arg, Ctx, Directive, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { currentTenantOf, domainsByTenantLoader, getTenant, listTenants, provisioningByTenantLoader, tenantByIdLoader } from './tenant.service.js';
import { CurrentTenant, Me, Tenant, TenantConnection, TenantDomain, TenantFilter, TenantProvisioning } from './tenant.type.js';

@Resolver(() => Tenant)
export class TenantResolver {
  @Query(() => TenantConnection, { description: 'Tenants an administrator may see, by slug.' })
  @Directive(tenantLevel('CENTRAL'))
  tenants(
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => TenantFilter, { nullable: true }) filter: TenantFilter | null,
    @Ctx() context: RequestContext,
  ): Promise<TenantConnection> {
    return listTenants(context, { first, after, filter });
  }

  @Query(() => Tenant, { description: 'One tenant by id or slug (exactly one of them).' })
  @Directive(tenantLevel('CENTRAL'))
  tenant(
    @Arg('id', () => ID, { nullable: true }) id: string | null,
    @Arg('slug', () => String, { nullable: true }) slug: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Tenant> {
    return getTenant(context, { id, slug });
  }

  @Query(() => CurrentTenant, { description: 'Where this request stands: its level and tenant chain.' })
  currentTenant(@Ctx() context: RequestContext): CurrentTenant {
    return currentTenantOf(context);
  }

  @Query(() => Me, { description: 'Who this request runs as.' })
  me(@Ctx() context: RequestContext): Me {
    const principal = context.principal;
    // A system principal (jobs, CLI) never reaches GraphQL; answered like anonymous if it ever did.
    if (principal.kind !== 'user') {
      return { authenticated: false, subject: null, tenantId: null, roles: [], abilities: [], isSystemAdmin: false, impersonatorId: null };
    }
    return { authenticated: true, ...principal };
  }

  @FieldResolver(() => Tenant, { nullable: true })
  parent(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<Tenant | null> | null {
    return tenant.parentId ? tenantByIdLoader(context).load(tenant.parentId) : null;
  }

  @FieldResolver(() => TenantProvisioning, { nullable: true, description: 'The latest provisioning attempt; null for tenants made before attempts were recorded.' })
  async provisioning(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<TenantProvisioning | null> {
    return (await provisioningByTenantLoader(context).load(tenant.id)) ?? null;
  }

  @FieldResolver(() => [TenantDomain])
  domains(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<TenantDomain[]> {
    return domainsByTenantLoader(context).load(tenant.id);
  }
}
