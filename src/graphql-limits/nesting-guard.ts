/**
 * A bracket-nesting check on the raw query text, before graphql-js parses it.
 *
 * graphql-js parses recursively: a field nested ~2,000 deep overflows the stack
 * (`RangeError: Maximum call stack size exceeded`) before `maxTokens` stops it, and that surfaced
 * as INTERNAL_SERVER_ERROR. Counting `{ ( [` outside strings and comments is one linear pass
 * with no allocation, so every request can afford it; the real depth limit (armor's maxDepth and
 * ours per caller) runs after parsing, on fields.
 *
 * The pass stops as soon as it has an answer, because abusive documents are what it reads most
 * (docs/BENCHMARKS.md, "Abuse"): at the first bracket past the limit, and once the text holds more
 * tokens than the parser's `maxTokens` (the parser refuses the document there, before it can
 * recurse any deeper than what was already scanned). Reading a 1 MB document to its end cost more
 * server CPU than the victim tenant's whole request. A document found to hold too many tokens is
 * refused here too, with the parser's answer, before Apollo hashes and parses it.
 */

/** How deep brackets may nest: enough for any query the depth limit allows, far below a stack overflow. */
export function nestingLimitFor(maxDepth: number): number {
  return Math.min(Math.max(64, 4 * maxDepth), 1000);
}

const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57); // … 0-9

/** What one pass over a query's text found. */
export type QueryTextScan = {
  /**
   * The deepest bracket nesting outside strings and comments, counted only as far as needed: 0
   * when the document is too short to exceed the limit; `limit + 1` as soon as it exceeds it (the
   * true depth is not counted further); the deepest seen when the text has more than `maxTokens`
   * tokens before that.
   */
  nesting: number;
  /**
   * The text holds more than `maxTokens` tokens: graphql-js would refuse it while parsing, so it
   * can be refused now, before Apollo hashes and parses it.
   */
  tooManyTokens: boolean;
};

/**
 * One pass over `query`. Tokens are under-counted on purpose: only brackets, names and strings,
 * each of which is at least one of graphql-js's tokens (numbers, `$`, `:`, `...` and the like are
 * not counted). So this pass never stops before the point where the parser gives up, and never
 * says "too many tokens" of a document the parser would take.
 */
export function scanQueryText(query: string, limit: number, maxTokens = Number.POSITIVE_INFINITY): QueryTextScan {
  // A document shorter than the limit cannot nest deeper than it (its tokens are left to the parser).
  if (query.length <= limit) return { nesting: 0, tooManyTokens: false };
  let depth = 0;
  let deepest = 0;
  let tokens = 0;
  const length = query.length;
  for (let i = 0; i < length; i++) {
    const c = query.charCodeAt(i);
    if (c === 123 /* { */ || c === 40 /* ( */ || c === 91 /* [ */) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return { nesting: deepest, tooManyTokens: false };
      }
      tokens++;
    } else if (c === 125 /* } */ || c === 41 /* ) */ || c === 93 /* ] */) {
      depth--;
      tokens++;
    } else if (isNameStart(c)) {
      // A name, unless it continues a number (`1e5`, `1.5e5`): skip to its end either way.
      const previous = i > 0 ? query.charCodeAt(i - 1) : 32;
      if (!(previous >= 48 && previous <= 57) && previous !== 46 /* . */) tokens++;
      while (i + 1 < length && isNameChar(query.charCodeAt(i + 1))) i++;
    } else if (c === 35 /* # */) {
      while (i < length && query.charCodeAt(i) !== 10 && query.charCodeAt(i) !== 13) i++;
    } else if (c === 34 /* " */) {
      tokens++;
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
    if (tokens > maxTokens) return { nesting: deepest, tooManyTokens: true };
  }
  return { nesting: deepest, tooManyTokens: false };
}
