/**
 * graphql-shield rules. Each answers one question about the request's principal and scope;
 * the rule map (permissions.ts) combines them per field. `cache: 'contextual'` evaluates a rule
 * once per request, since none depends on parent or arguments.
 */
import { rule } from 'graphql-shield';
import { type RequestContext } from '../context/request-context.js';
import { AppError, ErrorCode } from '../errors/index.js';
import { chainRecords, chainTarget, TENANT_ADMIN_ROLE, type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { type ClusterModule } from '../tenancy/model.js';
import { subscriptionExpired } from '../tenancy/plans/plan-state.js';

const user = (context: Pick<RequestContext, 'principal'>): UserPrincipal | undefined => (context.principal.kind === 'user' ? context.principal : undefined);

export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) =>
  user(context) ? true : new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in or send a bearer token'),
);

export const isSystemAdmin = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => user(context)?.isSystemAdmin === true);

/** An admin of an ancestor of the scope's target (e.g. of the group that owns this clinic). */
export const isAncestorAdmin = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  const principal = user(context);
  if (!principal?.tenantId || !principal.roles.includes(TENANT_ADMIN_ROLE) || context.scope.level === 'CENTRAL') return false;
  const scope = context.scope;
  const ancestors = scope.level === 'TENANT' ? [scope.app.id, scope.group.id] : scope.level === 'CENTRAL_TENANT' ? [scope.app.id] : [];
  return ancestors.includes(principal.tenantId);
});

/** A token with the admin role for some tenant (what it may administer below it is checked by the service). */
export const isTenantAdminToken = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  const principal = user(context);
  return principal !== undefined && principal.tenantId !== null && principal.roles.includes(TENANT_ADMIN_ROLE);
});

/** The principal's token was issued for the scope's target itself. */
export const isScopeMember = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  const principal = user(context);
  return principal !== undefined && context.scope.level !== 'CENTRAL' && principal.tenantId === chainTarget(context.scope).id;
});

export const isScopeAdmin = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  const principal = user(context);
  return (
    principal !== undefined &&
    context.scope.level !== 'CENTRAL' &&
    principal.tenantId === chainTarget(context.scope).id &&
    principal.roles.includes(TENANT_ADMIN_ROLE)
  );
});

/** The token carries an ability (`patients:write`), or a wildcard for its area (`patients:*`, `*`). */
export const hasAbility = memoizeByName((ability: string) =>
  rule(`hasAbility:${ability}`, { cache: 'contextual' })((_parent, _args, context: RequestContext) => {
    const principal = user(context);
    if (!principal) return false;
    if (principal.isSystemAdmin || principal.roles.includes(TENANT_ADMIN_ROLE)) return true;
    const area = ability.split(':')[0];
    return principal.abilities.some((held) => held === ability || held === '*' || held === `${area}:*`)
      ? true
      : new AppError(ErrorCode.FORBIDDEN, `Missing ability ${ability}`, { details: { missingAbility: ability } });
  }),
);

/** The principal holds one of the roles; the refusal names them. */
export const hasAnyRole = memoizeByName((roles: string) =>
  rule(`hasAnyRole:${roles}`, { cache: 'contextual' })((_parent, _args, context: RequestContext) => {
    const principal = user(context);
    const wanted = roles.split(',');
    if (principal && wanted.some((role) => principal.roles.includes(role))) return true;
    return new AppError(ErrorCode.FORBIDDEN, `Missing role: this needs ${wanted.join(' or ')}`, { details: { missingRole: wanted } });
  }),
);

/**
 * A person signed in with an access token of their own: not an API token and not impersonating
 * (an impersonation can never start another one, mint tokens or switch tenant).
 */
export const isSignedInPerson = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  const principal = user(context);
  if (!principal) return false;
  if (principal.impersonatorId !== null || principal.credential?.kind === 'impersonation') {
    return new AppError(ErrorCode.FORBIDDEN, 'Not allowed while impersonating');
  }
  if (principal.credential?.kind === 'api_token') return new AppError(ErrorCode.FORBIDDEN, 'Not allowed with an API token; sign in');
  return true;
});

export const isImpersonating = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) =>
  user(context)?.impersonatorId ? true : new AppError(ErrorCode.FORBIDDEN, 'This request is not impersonating anyone'),
);

/**
 * The tenant's plan enables a cluster module. A tenant without a plan has every module (the
 * demo data and self-hosted installs); plans list theirs in `plans.modules`.
 */
export const moduleEnabled = memoizeByName((module: ClusterModule) =>
  rule(`moduleEnabled:${module}`, { cache: 'contextual' })(async (_parent, _args, context: RequestContext) => {
    if (context.scope.level !== 'TENANT') return false;
    const modules = await context.services.planModules(context.scope.tenant.id);
    return modules === 'all' || modules.includes(module)
      ? true
      : new AppError(ErrorCode.FORBIDDEN, `The ${module.toUpperCase()} module is not part of this tenant's plan`, { details: { module } });
  }),
);

/**
 * An expired subscription (ended, canceled, or past its end or trial end) makes the tenant
 * read-only: this sits beside isTenantWritable on every tenant-level mutation. Reads stay served.
 */
export const hasActiveSubscription = rule({ cache: 'contextual' })(async (_parent, _args, context: RequestContext) => {
  if (context.scope.level !== 'TENANT') return true;
  const state = await context.services.planState(context.scope.tenant.id);
  return subscriptionExpired(state)
    ? new AppError(ErrorCode.SUBSCRIPTION_EXPIRED, "This tenant's subscription has expired: it is read-only until its plan is renewed")
    : true;
});

/** Writes need an active tenant; suspended tenants (reachable by admins) and maintenance are read-only. */
export const isTenantWritable = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => {
  if (context.scope.level === 'CENTRAL') return true;
  const target = chainTarget(context.scope);
  if (target.status !== 'ACTIVE') return new AppError(ErrorCode.TENANT_SUSPENDED, 'This tenant is suspended: it is read-only');
  if (target.maintenance) return new AppError(ErrorCode.TENANT_MAINTENANCE, 'This tenant is in maintenance: it is read-only', { headers: { 'Retry-After': '60' } });
  return true;
});

/**
 * Whether the principal may see more of the request's tenant than a login page needs (its slug,
 * name and status): system admins, members of the tenant itself, and admins of it or an ancestor
 * (the principals `canAccessScope` lets in). Anyone can name a host; not everyone may learn its
 * ids, isolation, hierarchy and domains.
 */
export function mayDescribeScope(context: Pick<RequestContext, 'scope' | 'principal'>): boolean {
  const principal = user(context);
  if (!principal) return false;
  if (principal.isSystemAdmin || context.scope.level === 'CENTRAL') return true;
  if (principal.tenantId === null) return false;
  if (principal.tenantId === chainTarget(context.scope).id) return true;
  return principal.roles.includes(TENANT_ADMIN_ROLE) && chainRecords(context.scope).some((record) => record.id === principal.tenantId);
}

const hiddenDetails = () => new AppError(ErrorCode.FORBIDDEN, "Only a tenant's slug, name and status are public; sign in to see more");

/** `currentTenant { app group }`: only for principals that may describe the scope. */
export const scopeDetailsVisible = rule({ cache: 'contextual' })((_parent, _args, context: RequestContext) => mayDescribeScope(context) || hiddenDetails());

/** A Tenant's fields beyond slug, name and status, unless the resolver marked it as a public view. */
export const tenantDetailsVisible = rule({ cache: 'no_cache' })((parent: { detailsHidden?: boolean } | undefined) =>
  parent?.detailsHidden === true ? hiddenDetails() : true,
);

/** graphql-shield wants one rule instance per name, so parameterised rules are made once per argument. */
function memoizeByName<A extends string, R>(make: (arg: A) => R): (arg: A) => R {
  const made = new Map<A, R>();
  return (arg) => {
    let value = made.get(arg);
    if (value === undefined) {
      value = make(arg);
      made.set(arg, value);
    }
    return value;
  };
}
