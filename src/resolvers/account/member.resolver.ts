import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type IssuedInvitation } from '../../auth/invitations.js';
import { type MemberView } from '../../auth/members.js';
import { type RequestContext } from '../../context/request-context.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type UserPrincipal } from '../../tenancy/identification/identification-types.js';
import { AuthPayload } from '../auth/auth.type.js';
import { type Invitation, Member, MemberInvitation } from './member.type.js';

function signedIn(context: RequestContext): UserPrincipal {
  if (context.principal.kind !== 'user') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token');
  return context.principal;
}

function toMember(row: MemberView): Member {
  return {
    id: row.id,
    accountId: row.account_id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role,
    abilities: row.abilities,
    createdAt: row.created_at,
    invitationExpiresAt: row.invitation_expires_at,
  };
}

export function toInvitation(issued: IssuedInvitation | null): Invitation | null {
  return issued && { email: issued.email, token: issued.token, url: issued.url, expiresAt: issued.expiresAt };
}

@Resolver(() => Member)
export class MemberResolver {
  @Query(() => [Member], { description: 'Members of a tenant you administer (it or an ancestor).' })
  async members(@Arg('tenantId', () => ID) tenantId: string, @Ctx() context: RequestContext): Promise<Member[]> {
    return (await context.services.auth.members.list(signedIn(context), tenantId)).map(toMember);
  }

  @Mutation(() => MemberInvitation, {
    description:
      'Adds an account (created when new, without a password) to a tenant you administer. A new or password-less account gets an invitation; its token is in this answer only.',
  })
  async inviteMember(
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('email', () => String) email: string,
    @Arg('role', () => String, { description: 'admin or member' }) role: string,
    @Arg('abilities', () => [String], { defaultValue: [] }) abilities: string[],
    @Ctx() context: RequestContext,
  ): Promise<MemberInvitation> {
    const invited = await context.services.auth.members.invite(signedIn(context), { tenantId, email, role, abilities }, context.client);
    return { member: toMember(invited.member), invitation: toInvitation(invited.invitation) };
  }

  @Mutation(() => MemberInvitation, {
    description: 'A new invitation for a member who has not set a password yet (admins of the tenant or an ancestor); the earlier token stops working.',
  })
  async resendInvitation(@Arg('membershipId', () => ID) membershipId: string, @Ctx() context: RequestContext): Promise<MemberInvitation> {
    const { auth } = context.services;
    const principal = signedIn(context);
    const resent = await auth.invitations.resend(principal, membershipId, context.client);
    const member = await auth.members.get(principal, resent.membershipId);
    return { member: toMember(member), invitation: toInvitation(resent.invitation) };
  }

  @Mutation(() => AuthPayload, {
    description:
      'Accepts an invitation: sets the password (at least 12 characters) and signs in to the inviting tenant, answering as login does. INVITATION_INVALID, INVITATION_EXPIRED, INVITATION_USED or INVITATION_REVOKED when it cannot be used; nothing changes then.',
  })
  acceptInvitation(
    @Arg('token', () => String) token: string,
    @Arg('password', () => String) password: string,
    @Arg('name', () => String, { nullable: true, description: 'Your name; default: unchanged (the email).' }) name: string | null,
    @Ctx() context: RequestContext,
  ): Promise<AuthPayload> {
    return context.services.auth.invitations.accept({ token, password, name: name ?? null }, context.client);
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
