import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type ApiTokenRow } from '../../auth/api-tokens.js';
import { findAccountById } from '../../auth/accounts.js';
import { ABILITIES, ROLES } from '../../auth/catalogue.js';
import { type RequestContext } from '../../context/request-context.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type UserPrincipal } from '../../tenancy/identification/identification-types.js';
import { AccessCatalogue, ApiToken, AuthPayload, CreatedApiToken, ImpersonationCode, TwoFactorEnrolment } from './auth.type.js';

/** The signed-in principal; the shield rules already refused anonymous callers where it matters. */
function signedIn(context: RequestContext): UserPrincipal {
  if (context.principal.kind !== 'user') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token');
  return context.principal;
}

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.token_prefix,
    abilities: row.abilities,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

@Resolver()
export class AuthResolver {
  @Query(() => AccessCatalogue, { description: 'Known roles and abilities.' })
  accessCatalogue(): AccessCatalogue {
    return { roles: [...ROLES], abilities: [...ABILITIES] };
  }

  @Mutation(() => AuthPayload, {
    description:
      'Sign in. `tenant` (slug or id) picks the tenant the token is for; without it a system admin gets a central token and a member of one tenant that one. Answers TWO_FACTOR_REQUIRED (with `challenge`) when a second factor is needed.',
  })
  login(
    @Arg('email', () => String) email: string,
    @Arg('password', () => String) password: string,
    @Arg('tenant', () => String, { nullable: true }) tenant: string | null,
    @Ctx() context: RequestContext,
  ): Promise<AuthPayload> {
    return context.services.auth.sessions.login({ email, password, tenant: tenant ?? null }, context.client);
  }

  @Mutation(() => AuthPayload, { description: 'Completes a sign-in that answered TWO_FACTOR_REQUIRED, with a TOTP or recovery code.' })
  verifyTwoFactor(
    @Arg('challenge', () => String) challenge: string,
    @Arg('code', () => String) code: string,
    @Ctx() context: RequestContext,
  ): Promise<AuthPayload> {
    return context.services.auth.sessions.verifySecondFactor(challenge, code, context.client);
  }

  @Mutation(() => TwoFactorEnrolment, {
    description: 'Starts two-factor enrolment for the signed-in account, or with the challenge of a sign-in that requires it. Confirm with verifyTwoFactor (challenge) or confirmTwoFactor.',
  })
  async enrolTwoFactor(@Arg('challenge', () => String, { nullable: true }) challenge: string | null, @Ctx() context: RequestContext): Promise<TwoFactorEnrolment> {
    const { twoFactor, audit, pool } = context.services.auth;
    let account;
    if (challenge != null) account = (await twoFactor.openChallenge(challenge)).account;
    else {
      const principal = signedIn(context);
      if (principal.credential) throw new AppError(ErrorCode.FORBIDDEN, 'Two-factor enrolment needs a signed-in person, not an API or impersonation token');
      account = await findAccountById(pool, principal.subject);
    }
    if (!account) throw new AppError(ErrorCode.FORBIDDEN, 'Two-factor enrolment needs an account');
    const enrolment = await twoFactor.enrol(account);
    await audit.record({ subject: account.id, impersonatorId: null }, context.client, { action: 'auth.two_factor_enrolment_started', targetType: 'account', targetId: account.id });
    return enrolment;
  }

  @Mutation(() => Boolean, { description: 'Confirms the signed-in account’s two-factor enrolment with a first TOTP code.' })
  async confirmTwoFactor(@Arg('code', () => String) code: string, @Ctx() context: RequestContext): Promise<boolean> {
    const { twoFactor, audit, pool } = context.services.auth;
    const account = await findAccountById(pool, signedIn(context).subject);
    if (!account) throw new AppError(ErrorCode.FORBIDDEN, 'Two-factor enrolment needs an account');
    const result = await twoFactor.verify(account, code);
    if (!result.ok || result.method !== 'totp') throw new AppError(ErrorCode.BAD_USER_INPUT, 'Invalid two-factor code', { details: { field: 'code' } });
    await audit.record({ subject: account.id, impersonatorId: null }, context.client, { action: 'auth.two_factor_enabled', targetType: 'account', targetId: account.id });
    return true;
  }

  @Mutation(() => AuthPayload, { description: 'Rotates a refresh token. Presenting a token that was already rotated revokes its whole sign-in.' })
  refreshToken(@Arg('token', () => String) token: string, @Ctx() context: RequestContext): Promise<AuthPayload> {
    return context.services.auth.sessions.refresh(token, context.client);
  }

  @Mutation(() => Boolean, { description: 'Ends the sign-in a refresh token belongs to (its access tokens run out within 15 minutes).' })
  logout(@Arg('refreshToken', () => String) refreshToken: string, @Ctx() context: RequestContext): Promise<boolean> {
    return context.services.auth.sessions.logout(refreshToken, context.client);
  }

  @Mutation(() => AuthPayload, { description: 'Tokens for another tenant (slug or id) the signed-in account belongs to.' })
  switchTenant(@Arg('tenant', () => String) tenant: string, @Ctx() context: RequestContext): Promise<AuthPayload> {
    return context.services.auth.sessions.switchTenant(signedIn(context).subject, tenant, context.client);
  }

  @Mutation(() => ImpersonationCode, {
    description: 'System admins and admins of an ancestor: a single-use 60-second code to act as a member of a tenant (default: its first admin). Audited.',
  })
  async impersonate(
    @Arg('tenantId', () => ID) tenantId: string,
    @Arg('accountId', () => ID, { nullable: true }) accountId: string | null,
    @Arg('reason', () => String) reason: string,
    @Ctx() context: RequestContext,
  ): Promise<ImpersonationCode> {
    const started = await context.services.auth.impersonations.start({ kind: 'account', principal: signedIn(context) }, { tenantId, accountId: accountId ?? null, reason }, context.client);
    return { code: started.code, expiresAt: started.expiresAt, accountId: started.targetAccountId };
  }

  @Mutation(() => AuthPayload, { description: 'Trades an impersonation code (once) for an access token with an `act` claim; no refresh token.' })
  redeemImpersonation(@Arg('code', () => String) code: string, @Ctx() context: RequestContext): Promise<AuthPayload> {
    return context.services.auth.impersonations.redeem(context.principal.kind === 'user' ? context.principal : null, code, context.client);
  }

  @Mutation(() => Boolean, { description: 'Ends the impersonation this request’s token belongs to; the token stops working at once.' })
  endImpersonation(@Ctx() context: RequestContext): Promise<boolean> {
    return context.services.auth.impersonations.end(signedIn(context), context.client);
  }

  @Mutation(() => CreatedApiToken, { description: 'An API token for this tenant with some of your abilities; the token is shown this once.' })
  async createApiToken(
    @Arg('name', () => String) name: string,
    @Arg('abilities', () => [String]) abilities: string[],
    @Arg('expiresAt', () => Date, { nullable: true }) expiresAt: Date | null,
    @Ctx() context: RequestContext,
  ): Promise<CreatedApiToken> {
    const created = await context.services.auth.apiTokens.create(signedIn(context), { name, abilities, expiresAt: expiresAt ?? null }, context.client);
    return { token: created.token, apiToken: toApiToken(created.row) };
  }

  @Query(() => [ApiToken], { description: 'API tokens of this tenant (admins: all; others: their own).' })
  async apiTokens(@Ctx() context: RequestContext): Promise<ApiToken[]> {
    return (await context.services.auth.apiTokens.list(signedIn(context))).map(toApiToken);
  }

  @Mutation(() => ApiToken, { description: 'Revokes an API token; every server process refuses it within a second.' })
  async revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() context: RequestContext): Promise<ApiToken> {
    return toApiToken(await context.services.auth.apiTokens.revoke(signedIn(context), id, context.client));
  }
}
