import { Arg, Ctx, Directive, Field, ID, Mutation, ObjectType, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { type TenantDomainRecord, VERIFICATION_PATH_PREFIX } from '../../tenancy/domains/tenant-domains.js';
import { actorOf } from './tenant-lifecycle.resolver.js';
import { TenantDomain } from './tenant.type.js';

@ObjectType({ description: 'A domain as its administrators see it: with where to serve its verification token.' })
export class ManagedDomain {
  @Field(() => TenantDomain)
  domain!: TenantDomain;

  @Field(() => String, { description: 'Serve the last path segment as the whole body at this URL, then call verifyDomain.' })
  verificationUrl!: string;

  @Field(() => Boolean, { description: 'verifyDomain: true when a check of the URL was queued (the domain turns verified when it passes).' })
  checkQueued!: boolean;
}

const toDomain = (record: TenantDomainRecord): TenantDomain => ({
  id: record.id,
  domain: record.domain,
  isPrimary: record.isPrimary,
  isVerified: record.isVerified,
  verifiedAt: record.verifiedAt,
});

const managed = (record: TenantDomainRecord, checkQueued = false): ManagedDomain => ({
  domain: toDomain(record),
  verificationUrl: `http://${record.domain}${VERIFICATION_PATH_PREFIX}${record.verificationToken}`,
  checkQueued,
});

/** Custom domains, for system admins and admins of an ancestor of the tenant (others: NOT_FOUND). */
@Resolver()
export class TenantDomainResolver {
  @Mutation(() => ManagedDomain, { description: "Adds a host name to a tenant (its first becomes primary). Routes once verified when REQUIRE_VERIFIED_DOMAINS is on." })
  @Directive(tenantLevel('CENTRAL'))
  async addDomain(@Arg('tenantId', () => ID) tenantId: string, @Arg('domain', () => String) domain: string, @Ctx() context: RequestContext): Promise<ManagedDomain> {
    return managed(await context.services.administration.domains.add(actorOf(context), tenantId, domain));
  }

  @Mutation(() => ManagedDomain, { description: 'A system admin marks the domain verified; other admins queue a check of its verificationUrl.' })
  @Directive(tenantLevel('CENTRAL'))
  async verifyDomain(@Arg('domainId', () => ID) domainId: string, @Ctx() context: RequestContext): Promise<ManagedDomain> {
    const result = await context.services.administration.domains.verify(actorOf(context), domainId);
    return managed(result.domain, result.checkQueued);
  }

  @Mutation(() => TenantDomain, { description: "Makes the domain its tenant's primary one." })
  @Directive(tenantLevel('CENTRAL'))
  async setPrimaryDomain(@Arg('domainId', () => ID) domainId: string, @Ctx() context: RequestContext): Promise<TenantDomain> {
    return toDomain(await context.services.administration.domains.setPrimary(actorOf(context), domainId));
  }

  @Mutation(() => TenantDomain, { description: 'Removes the domain (it stops routing at once); answers it as it was.' })
  @Directive(tenantLevel('CENTRAL'))
  async removeDomain(@Arg('domainId', () => ID) domainId: string, @Ctx() context: RequestContext): Promise<TenantDomain> {
    return toDomain(await context.services.administration.domains.remove(actorOf(context), domainId));
  }
}
