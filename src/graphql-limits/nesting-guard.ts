/**
 * A bracket-nesting check on the raw query text, before graphql-js parses it.
 *
 * graphql-js parses recursively: a field nested ~2,000 deep overflows the stack
 * (`RangeError: Maximum call stack size exceeded`) before `maxTokens` stops it, and that surfaced
 * as INTERNAL_SERVER_ERROR. Counting `{ ( [` outside strings and comments is one linear pass
 * with no allocation, so every request can afford it; the real depth limit (armor's maxDepth and
 * ours per caller) runs after parsing, on fields.
 */

/** How deep brackets may nest: enough for any query the depth limit allows, far below a stack overflow. */
export function nestingLimitFor(maxDepth: number): number {
  return Math.min(Math.max(64, 4 * maxDepth), 1000);
}

/** The deepest bracket nesting of `query` outside strings and comments (0 when it is too short to exceed `limit`). */
export function bracketNesting(query: string, limit: number): number {
  // A document shorter than the limit cannot nest deeper than it.
  if (query.length <= limit) return 0;
  let depth = 0;
  let deepest = 0;
  const length = query.length;
  for (let i = 0; i < length; i++) {
    const c = query.charCodeAt(i);
    if (c === 123 /* { */ || c === 40 /* ( */ || c === 91 /* [ */) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 125 /* } */ || c === 41 /* ) */ || c === 93 /* ] */) {
      depth--;
    } else if (c === 35 /* # */) {
      while (i < length && query.charCodeAt(i) !== 10 && query.charCodeAt(i) !== 13) i++;
    } else if (c === 34 /* " */) {
      if (query.startsWith('"""', i)) {
        // A block string ends at the first triple quote not escaped as \""".
        let end = query.indexOf('"""', i + 3);
        while (end !== -1 && query.charCodeAt(end - 1) === 92 /* \\ */) end = query.indexOf('"""', end + 3);
        i = end === -1 ? length : end + 2;
      } else {
        for (i++; i < length; i++) {
          const s = query.charCodeAt(i);
          if (s === 92 /* \ */) i++;
          else if (s === 34 || s === 10 || s === 13) break;
        }
      }
    }
  }
  return deepest;
}
