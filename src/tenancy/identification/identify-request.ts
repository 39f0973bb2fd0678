/**
 * `identifyRequest`: who is calling (bearer token) and in which tenant (DESIGN §2 step 2).
 *
 * Identifiers run in TENANT_IDENTIFIERS order and each says what its evidence shows; the answers
 * are then reconciled. Contradictions are errors, never guesses:
 * - the token, the domain and the subdomain must name the same tenant (else TENANT_MISMATCH);
 * - X-Tenant (already authorised by HeaderIdentifier) may narrow to a descendant of the tenant the
 *   others name, e.g. a group admin's token plus `X-Tenant: <clinic of that group>`;
 * - a host that is neither central nor known is TENANT_NOT_FOUND, whatever else the request says;
 * - nothing named: the central scope.
 * The chosen tenant and each of its ancestors must be live: deleted or not ACTIVE/SUSPENDED is
 * TENANT_NOT_FOUND, SUSPENDED is TENANT_SUSPENDED (system admins pass), maintenance is
 * TENANT_MAINTENANCE with `Retry-After: 60` (system admins and admins of the tenant or an ancestor pass).
 *
 * Cost on the hot path: one HMAC check and LRU hits; no database or Redis round trip.
 */
import { type Config, type IdentifierName } from '../../config.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { verifyAccessTokenCached, type AccessTokenKeys } from './access-tokens.js';
import { DomainIdentifier } from './domain-identifier.js';
import { HeaderIdentifier } from './header-identifier.js';
import {
  chainRecords,
  chainTarget,
  TENANT_ADMIN_ROLE,
  type CredentialChecks,
  type Identification,
  type IdentificationInput,
  type Principal,
  type TenantChain,
  type TenantRecord,
} from './identification-types.js';
import { SubdomainIdentifier } from './subdomain-identifier.js';
import { type TenantDirectory } from './tenant-directory.js';
import { type TenantIdentifier } from './tenant-identifier.js';
import { TokenIdentifier } from './token-identifier.js';

export type IdentifyDependencies = {
  directory: TenantDirectory;
  /** In the order they run; build with `makeIdentifiers(config.tenancy)`. */
  identifiers: readonly TenantIdentifier[];
  tokens: AccessTokenKeys;
  /** API tokens and impersonation sessions (database-backed); without them only JWTs are accepted. */
  credentials?: CredentialChecks;
};

/** Seconds a client is told to wait when its tenant is in maintenance. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 60;
/** Longer Authorization values are refused before any parsing. */
const MAX_AUTHORIZATION_LENGTH = 8_192;
const HOST_IDENTIFIERS: ReadonlySet<IdentifierName> = new Set(['domain', 'subdomain']);

/** The identifiers TENANT_IDENTIFIERS names, in its order. */
export function makeIdentifiers(tenancy: Pick<Config['tenancy'], 'identifiers' | 'centralDomains' | 'centralDomain'>): TenantIdentifier[] {
  return tenancy.identifiers.map((name): TenantIdentifier => {
    switch (name) {
      case 'token':
        return new TokenIdentifier();
      case 'domain':
        return new DomainIdentifier(tenancy);
      case 'subdomain':
        return new SubdomainIdentifier(tenancy);
      case 'header':
        return new HeaderIdentifier();
      default: {
        const unreachable: never = name;
        throw new Error(`unknown identifier ${String(unreachable)}`);
      }
    }
  });
}

export async function identifyRequest(input: IdentificationInput, deps: IdentifyDependencies): Promise<Identification> {
  const principal = await authenticate(input.authorization, deps.tokens, deps.credentials);
  const named: Named[] = [];
  let hostChecked = false;
  let hostKnown = false;
  for (const identifier of deps.identifiers) {
    const result = await identifier.identify(input, principal, deps.directory);
    if (HOST_IDENTIFIERS.has(identifier.name) && input.host !== '') {
      hostChecked = true;
      if (result !== undefined) hostKnown = true;
    }
    if (result !== undefined && result !== 'central') named.push({ by: identifier.name, chain: result });
  }
  if (hostChecked && !hostKnown) throw new AppError(ErrorCode.TENANT_NOT_FOUND, 'No tenant is served at this host');
  // With the token identifier off, the token's tenant selects nothing but may still not contradict.
  const unlistedTokenTenant = principal.kind === 'user' && !deps.identifiers.some((identifier) => identifier.name === 'token') ? principal.tenantId : null;
  const chain = reconcile(named, unlistedTokenTenant);
  if (!chain) return { principal, scope: { level: 'CENTRAL' } };
  assertTenantAvailable(chain, principal);
  return { principal, scope: chain };
}

/**
 * The principal of an Authorization header: anonymous when absent; otherwise it must be
 * `Bearer <valid access token>`, and anything else (empty, another scheme, garbage) is UNAUTHENTICATED.
 */
export async function authenticate(authorization: string | undefined, keys: AccessTokenKeys, credentials?: CredentialChecks): Promise<Principal> {
  if (authorization === undefined) return { kind: 'anonymous' };
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) throw malformedAuthorization();
  const match = /^bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
  const token = match?.[1];
  if (!token) throw malformedAuthorization();
  if (credentials?.isApiToken(token)) return credentials.apiToken(token);
  const principal = await verifyAccessTokenCached(keys, token);
  // Impersonation tokens end before they expire (endImpersonation): their session is checked.
  if (principal.impersonatorId !== null && credentials) return credentials.impersonation(token, principal);
  return principal;
}

function malformedAuthorization(): AppError {
  return new AppError(ErrorCode.UNAUTHENTICATED, 'Malformed Authorization header; expected `Bearer <access token or API token>`');
}

type Named = { by: IdentifierName; chain: TenantChain };

function reconcile(named: readonly Named[], unlistedTokenTenant: string | null): TenantChain | undefined {
  const header = named.find((entry) => entry.by === 'header');
  const chosen = header ?? named[0];
  if (!chosen) return undefined;
  const chosenId = chainTarget(chosen.chain).id;
  // With X-Tenant, the others may name the header's tenant or one of its ancestors.
  const allowed = new Set(header ? chainRecords(header.chain).map((record) => record.id) : [chosenId]);
  if (unlistedTokenTenant !== null && !allowed.has(unlistedTokenTenant)) {
    throw new AppError(ErrorCode.TENANT_MISMATCH, `The access token and the ${describe(chosen.by)} point to different tenants`, {
      details: { identifiers: ['token', chosen.by] },
    });
  }
  for (const entry of named) {
    if (entry === chosen || allowed.has(chainTarget(entry.chain).id)) continue;
    const [first, second] = named.indexOf(entry) < named.indexOf(chosen) ? [entry, chosen] : [chosen, entry];
    throw new AppError(ErrorCode.TENANT_MISMATCH, `The ${describe(first.by)} and the ${describe(second.by)} point to different tenants`, {
      details: { identifiers: [first.by, second.by] },
    });
  }
  return chosen.chain;
}

function describe(by: IdentifierName): string {
  switch (by) {
    case 'token':
      return 'access token';
    case 'domain':
      return 'host';
    case 'subdomain':
      return 'subdomain';
    case 'header':
      return 'X-Tenant header';
    default: {
      const unreachable: never = by;
      return String(unreachable);
    }
  }
}

/** The tenant and every ancestor must be live; see the module comment for who passes what. */
export function assertTenantAvailable(chain: TenantChain, principal: Principal): void {
  const records = chainRecords(chain);
  if (records.some((record) => record.deletedAt !== null || (record.status !== 'ACTIVE' && record.status !== 'SUSPENDED'))) {
    throw new AppError(ErrorCode.TENANT_NOT_FOUND, 'Tenant not found');
  }
  const isSystemAdmin = principal.kind === 'user' && principal.isSystemAdmin;
  if (!isSystemAdmin && records.some((record) => record.status === 'SUSPENDED')) {
    throw new AppError(ErrorCode.TENANT_SUSPENDED, 'This tenant is suspended');
  }
  // The most specific record in maintenance speaks (a clinic's own message before its app's).
  const down = records.findLast((record) => record.maintenance);
  if (down && !isSystemAdmin && !isAdminWithin(principal, records)) {
    throw new AppError(ErrorCode.TENANT_MAINTENANCE, down.maintenanceMessage || 'This tenant is down for maintenance; try again later', {
      headers: { 'Retry-After': String(MAINTENANCE_RETRY_AFTER_SECONDS) },
      details: { retryAfterSeconds: MAINTENANCE_RETRY_AFTER_SECONDS },
    });
  }
}

function isAdminWithin(principal: Principal, records: readonly TenantRecord[]): boolean {
  if (principal.kind !== 'user' || principal.tenantId === null || !principal.roles.includes(TENANT_ADMIN_ROLE)) return false;
  return records.some((record) => record.id === principal.tenantId);
}
