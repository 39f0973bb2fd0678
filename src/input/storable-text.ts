/**
 * Text PostgreSQL can store as given. A `text` value cannot hold NUL (U+0000): bound as a parameter
 * it fails with 22021, inlined in a query it breaks the wire protocol (08P01). An unpaired UTF-16
 * surrogate has no UTF-8 form: `pg` would silently store U+FFFD instead of what was sent.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const SUSPICIOUS = /[\u0000\uD800-\uDFFF]/;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  // Most text has neither: one cheap scan, and the precise check only when needed.
  if (!SUSPICIOUS.test(value)) return true;
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

/**
 * The path of the first string in a JSON-like value that is not storable text (`input.firstName`,
 * `lines.2.catalogItemId`), or undefined when every string is.
 * @param maxDepth deeper values are not walked (GraphQL input this deep is refused anyway)
 */
export function findUnstorableText(value: unknown, path = '', maxDepth = 64): string | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : path || '(value)';
  if (value === null || typeof value !== 'object' || maxDepth === 0) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorableText(value[index], path ? `${path}.${index}` : String(index), maxDepth - 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = findUnstorableText((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, maxDepth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
