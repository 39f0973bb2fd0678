/**
 * Identifier quoting for the few places that build DDL. Names come from validated keys (see
 * `assertKey`); quoting is the second fence, never the only one.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes('\0')) {
    throw new Error(`Invalid SQL identifier ${JSON.stringify(name)}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}
