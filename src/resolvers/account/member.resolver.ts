import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type MemberView } from '../../auth/members.js';
import { type RequestContext } from '../../context/request-context.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type UserPrincipal } from '../../tenancy/identification/identification-types.js';
import { Member } from './member.type.js';

function signedIn(context: RequestContext): UserPrincipal {
  if (context.principal.kind !== 'user') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token');
  return context.principal;
}

function toMember(row: MemberView): Member {
  return { id: row.id, accountId: row.account_id, tenantId: row.tenant_id, email: row.email, role: row.role, abilities: row.abilities, createdAt: row.created_at };
}

@Resolver(() => Member)
export class MemberResolver {
  @Query(() => [Member], { description: 'Members of a tenant you administer (it or an ancestor).' })
  async members(@Arg('tenantId', () => ID) tenantId: string, @Ctx() context: RequestContext): Promise<Member[]> {
    return (await context.services.auth.members.list(signedIn(context), tenantId)).map(toMember);
  }

  @Mutation(() => Member, { description: 'Adds an account (created when new, without a password) to a tenant you administer.' })
  async inviteMember(
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('email', () => String) email: string,
    @Arg('role', () => String, { description: 'admin or member' }) role: string,
    @Arg('abilities', () => [String], { defaultValue: [] }) abilities: string[],
    @Ctx() context: RequestContext,
  ): Promise<Member> {
    return toMember(await context.services.auth.members.invite(signedIn(context), { tenantId, email, role, abilities }, context.client));
  }

  @Mutation(() => Member, { description: 'Changes a membership’s role or abilities (omitted: unchanged).' })
  async updateMember(
    @Arg('id', () => ID) id: string,
    @Arg('role', () => String, { nullable: true }) role: string | null,
    @Arg('abilities', () => [String], { nullable: true }) abilities: string[] | null,
    @Ctx() context: RequestContext,
  ): Promise<Member> {
    return toMember(await context.services.auth.members.update(signedIn(context), { id, role: role ?? null, abilities: abilities ?? null }, context.client));
  }

  @Mutation(() => Boolean, { description: 'Removes a membership (the account stays).' })
  removeMember(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    return context.services.auth.members.remove(signedIn(context), id, context.client);
  }
}
