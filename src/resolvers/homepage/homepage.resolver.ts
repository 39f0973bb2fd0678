import { Arg, Ctx, Directive, Field, ID, InputType, Mutation, ObjectType, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { getTenant } from '../tenant/tenant.service.js';
import { setHomepage } from './homepage.service.js';

@ObjectType({ description: "What GET / on a tenant's domain serves." })
export class TenantHomepage {
  @Field(() => Boolean, { description: 'Disabled: visitors are redirected to redirectUrl, or get 404.' })
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: "Page title; default the tenant's name." })
  title?: string | null;

  @Field(() => String, { nullable: true, description: 'Body markup; served with a Content-Security-Policy that runs no script.' })
  html?: string | null;

  @Field(() => String, { nullable: true })
  redirectUrl?: string | null;
}

@InputType()
export class TenantHomepageInput {
  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: 'At most 200 characters.' })
  title?: string | null;

  @Field(() => String, { nullable: true, description: 'At most 100,000 characters.' })
  html?: string | null;

  @Field(() => String, { nullable: true, description: 'http(s) URL for visitors while the homepage is disabled.' })
  redirectUrl?: string | null;
}

@Resolver()
export class HomepageResolver {
  @Mutation(() => TenantHomepage, { description: "Sets a tenant's homepage (system admins, and admins of the tenant or an ancestor)." })
  @Directive(tenantLevel('CENTRAL'))
  async setTenantHomepage(
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('input', () => TenantHomepageInput) input: TenantHomepageInput,
    @Ctx() context: RequestContext,
  ): Promise<TenantHomepage> {
    // NOT_FOUND unless the caller may administer that tenant (its subtree, or everything for system admins).
    const tenant = await getTenant(context, { id: tenantId });
    return setHomepage(context.db.central(), tenant.id, { ...input });
  }
}
