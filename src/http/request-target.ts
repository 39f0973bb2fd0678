/**
 * The path and query of a request target without `new URL()` per request (a measurable share of
 * our HTTP glue). Plain targets (`/graphql`, `/graphql?query=...`) are split as they are; anything
 * the WHATWG parser would rewrite (dot segments, percent-escapes, backslashes, absolute-form) goes
 * through it, so routing sees exactly what it saw before.
 */
export type RequestTarget = { pathname: string; search: string };

/** Anything but a plain absolute path of unreserved characters: dot segments, escapes, `//host`. */
const NEEDS_PARSER = /[^A-Za-z0-9\-_~!$&'()*+,;=:@/.]|\/\.|^(?!\/)|^\/\//;
/** What the parser percent-encodes (or cuts, `#`) in a special URL's query. */
// eslint-disable-next-line no-control-regex
const QUERY_NEEDS_PARSER = /[\u0000-\u0020"#<>'\u007f-\uffff]/;

export function requestTarget(rawUrl: string | undefined): RequestTarget {
  const target = rawUrl ?? '/';
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  if (NEEDS_PARSER.test(path) || (queryAt !== -1 && QUERY_NEEDS_PARSER.test(target.slice(queryAt)))) {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, search: url.search };
  }
  const search = queryAt === -1 || queryAt === target.length - 1 ? '' : target.slice(queryAt);
  return { pathname: path, search };
}

/** A query-string parameter (GET requests only, so parsed on demand). */
export function searchParam(target: RequestTarget, name: string): string | null {
  return target.search === '' ? null : new URLSearchParams(target.search).get(name);
}
