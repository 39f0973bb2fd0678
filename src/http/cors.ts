/**
 * CORS for /graphql (CORS_ORIGINS): browsers on the listed origins may call the API, with
 * credentials (cookies, Authorization) allowed for them; `*` (refused in production by config)
 * allows any origin without credentials. An origin not listed gets no CORS header at all, so the
 * browser withholds the response from its page; its preflight is refused with 403.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';

/** Request headers a browser client may send (Apollo's CSRF header among them). */
const ALLOWED_HEADERS = 'authorization, content-type, x-tenant, apollo-require-preflight, x-apollo-operation-name, x-request-id';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Response headers a page may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';
/** Browsers cap this (Chromium at 2 h); 10 minutes keeps a changed CORS_ORIGINS quick to apply. */
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export type Cors = {
  /**
   * Adds CORS headers for `req`'s origin. Returns true when it answered the request itself (a
   * preflight), false when the caller goes on to handle it.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
};

export function makeCors(origins: readonly string[]): Cors {
  const anyOrigin = origins.includes('*');
  const listed = new Set(origins.filter((origin) => origin !== '*'));
  const enabled = anyOrigin || listed.size > 0;

  return {
    handle(req, res) {
      // Without CORS_ORIGINS nothing changes: same-origin pages (Sandbox, GraphiQL) need no CORS.
      if (!enabled) return false;
      // The answer depends on Origin: shared caches must key on it.
      res.setHeader('vary', 'Origin');
      const origin = req.headers.origin;
      const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
      if (origin === undefined) return false;
      const allowedAs = listed.has(origin) ? 'listed' : anyOrigin ? 'any' : undefined;
      if (!allowedAs) {
        if (!preflight) return false; // answered normally, without CORS headers: the browser hides it
        req.resume();
        res.statusCode = 403;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'Origin not allowed; add it to CORS_ORIGINS' }));
        return true;
      }
      res.setHeader('access-control-allow-origin', allowedAs === 'listed' ? origin : '*');
      if (allowedAs === 'listed') res.setHeader('access-control-allow-credentials', 'true');
      if (!preflight) {
        res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
        return false;
      }
      req.resume();
      res.statusCode = 204;
      res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
      res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
      res.end();
      return true;
    },
  };
}
