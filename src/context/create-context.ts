/**
 * createRequestContext: identify the request (token, host, header), then enter its tenant scope
 * through the bootstrappers. Identification errors (UNAUTHENTICATED, TENANT_NOT_FOUND, ...) are
 * thrown from here and answered by Apollo with their HTTP status.
 */
import { type IncomingHttpHeaders } from 'node:http';
import { databaseUnavailable, isDatabaseUnavailable } from '../errors/index.js';
import { type Logger } from '../infra/logger.js';
import { type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { type CredentialChecks, type Identification, type IdentificationInput } from '../tenancy/identification/identification-types.js';
import { identifyRequest } from '../tenancy/identification/identify-request.js';
import { type TenantDirectory } from '../tenancy/identification/tenant-directory.js';
import { type TenantIdentifier } from '../tenancy/identification/tenant-identifier.js';
import { type EnteredScope, type TenantScopes } from '../tenancy/bootstrappers/index.js';

export type ContextDependencies = {
  directory: TenantDirectory;
  identifiers: readonly TenantIdentifier[];
  tokens: AccessTokenKeys;
  scopes: Pick<TenantScopes, 'enter'>;
  /** Accepts API tokens and checks impersonation sessions (src/auth/). */
  credentials?: CredentialChecks;
  /** For the one warning identification logs itself (the rest goes through the scope's logger). */
  logger: Logger;
};

/** The entered scope of one request; the server releases it when the response is complete. */
export async function createRequestContext(
  deps: ContextDependencies,
  request: { requestId: string; headers: IncomingHttpHeaders; remoteAddress?: string | undefined },
): Promise<EnteredScope> {
  let identification: Identification;
  try {
    identification = await identifyRequest(identificationInput(request.headers), deps);
  } catch (error) {
    // The tenant directory reads the central database on a cache miss: an outage there is a
    // retryable 503, not an internal error.
    if (!isDatabaseUnavailable(error)) throw error;
    deps.logger.warn({ err: error, requestId: request.requestId }, 'database unavailable while identifying the request');
    throw databaseUnavailable(error);
  }
  const userAgent = request.headers['user-agent'];
  return deps.scopes.enter({
    id: request.requestId,
    scope: identification.scope,
    principal: identification.principal,
    client: { requestId: request.requestId, ip: request.remoteAddress ?? null, userAgent: typeof userAgent === 'string' ? userAgent : null },
  });
}

/** Host without port, lower-case; IPv6 literals lose their brackets. */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(1, lower.indexOf(']') === -1 ? undefined : lower.indexOf(']'));
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

function identificationInput(headers: IncomingHttpHeaders): IdentificationInput {
  const tenantHeader = headers['x-tenant'];
  return {
    host: normalizeHost(headers.host),
    authorization: headers.authorization,
    tenantHeader: Array.isArray(tenantHeader) ? tenantHeader.join(',') : tenantHeader,
  };
}
