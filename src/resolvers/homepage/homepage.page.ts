/**
 * `GET /` on any host: a tenant's homepage on its domain, a central page on central hosts.
 * Tenant markup is the tenant's own, served under a Content-Security-Policy that loads no script,
 * so a homepage can never run code on the origin that also serves `/graphql`. Everything we put
 * into the page ourselves (names, titles, messages) is escaped.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type CentralPrisma } from '../../infra/central-database.js';
import { chainTarget, type IdentifiedScope } from '../../tenancy/identification/identification-types.js';
import { readHomepage } from './homepage.service.js';

export type HomepageDependencies = {
  /** The scope a host names (no token, no header), or an identification AppError. */
  identifyHost(host: string | undefined): Promise<IdentifiedScope>;
  central: CentralPrisma;
};

const CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function serveHomepage(deps: HomepageDependencies, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let scope: IdentifiedScope;
  try {
    scope = await deps.identifyHost(req.headers.host);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    switch (error.code) {
      case ErrorCode.TENANT_SUSPENDED:
        return sendPage(res, 403, 'Unavailable', '<p>This site is unavailable.</p>');
      case ErrorCode.TENANT_MAINTENANCE:
        res.setHeader('retry-after', '60');
        return sendPage(res, 503, 'Down for maintenance', `<p>${escapeHtml(error.message)}</p>`);
      default:
        return sendPage(res, 404, 'Not found', '<p>No site is served at this address.</p>');
    }
  }
  if (scope.level === 'CENTRAL') {
    return sendPage(res, 200, 'tenantgraph', '<h1>tenantgraph</h1><p>The GraphQL API is at <a href="/graphql">/graphql</a>.</p>');
  }
  const tenant = chainTarget(scope);
  const homepage = await readHomepage(deps.central, tenant.id);
  if (!homepage.enabled) {
    if (homepage.redirectUrl) {
      res.statusCode = 302;
      res.setHeader('location', homepage.redirectUrl);
      res.setHeader('cache-control', 'no-cache');
      return void res.end();
    }
    return sendPage(res, 404, 'Not found', '<p>This site has no homepage.</p>');
  }
  const title = homepage.title ?? tenant.name;
  const body = homepage.html ?? `<h1>${escapeHtml(tenant.name)}</h1><p>Welcome to ${escapeHtml(tenant.name)}.</p>`;
  return sendPage(res, 200, title, body);
}

function sendPage(res: ServerResponse, status: number, title: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cache-control', 'no-cache');
  res.end(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
