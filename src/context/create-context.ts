/**
 * createRequestContext: identify the request (token, host, header), then give it lazy database
 * handles and a logger bound to its tenant. Identification errors (UNAUTHENTICATED,
 * TENANT_NOT_FOUND, ...) are thrown from here and answered by Apollo with their HTTP status.
 */
import { type IncomingHttpHeaders } from 'node:http';
import { type Logger } from '../infra/logger.js';
import { type AccessTokenKeys } from '../tenancy/identification/access-tokens.js';
import { chainTarget, type IdentificationInput, type IdentifiedScope } from '../tenancy/identification/identification-types.js';
import { identifyRequest } from '../tenancy/identification/identify-request.js';
import { type TenantIdentifier } from '../tenancy/identification/tenant-identifier.js';
import { type RequestContext, type ServerServices } from './request-context.js';
import { RequestDatabases } from './request-databases.js';

export type ContextDependencies = {
  services: ServerServices;
  identifiers: readonly TenantIdentifier[];
  tokens: AccessTokenKeys;
};

export async function createRequestContext(
  deps: ContextDependencies,
  /** `logger` is the process logger; the context binds request and tenant to it when first used. */
  request: { requestId: string; headers: IncomingHttpHeaders; logger: Logger },
): Promise<RequestContext> {
  const { principal, scope, source } = await identifyRequest(identificationInput(request.headers), {
    directory: deps.services.tenancy.directory,
    identifiers: deps.identifiers,
    tokens: deps.tokens,
  });
  let logger: Logger | undefined;
  return {
    requestId: request.requestId,
    // Made on first use: most requests log nothing, and a pino child costs more than the rest of the context.
    get logger() {
      return (logger ??= bindLogger(request.logger, request.requestId, scope));
    },
    services: deps.services,
    principal,
    scope,
    identifiedBy: source,
    db: new RequestDatabases(deps.services.tenancy, scope),
    loaders: new Map(),
  };
}

function bindLogger(base: Logger, requestId: string, scope: IdentifiedScope): Logger {
  if (scope.level === 'CENTRAL') return base.child({ requestId });
  const target = chainTarget(scope);
  // `tenantLevel`, not `level`: pino writes the log level under `level`, and a second key would replace it.
  return base.child({ requestId, tenantId: target.id, tenant: target.slug, tenantLevel: scope.level });
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
