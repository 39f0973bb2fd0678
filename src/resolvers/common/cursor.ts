/**
 * Opaque pagination cursors. A cursor names the tenant (or scope) it was made in and is refused
 * anywhere else, so a cursor can never carry a position from one tenant into another's list.
 */
import { AppError, ErrorCode } from '../../errors/index.js';

export function encodeCursor(scopeId: string, position: readonly string[]): string {
  return Buffer.from(JSON.stringify([scopeId, ...position])).toString('base64url');
}

export function decodeCursor(cursor: string, scopeId: string, length: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== length + 1 ||
    parsed[0] !== scopeId ||
    !parsed.every((part) => typeof part === 'string')
  ) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'This cursor is not valid here', { details: { field: 'after' } });
  }
  return (parsed as string[]).slice(1);
}

/** Page sizes are 1..100; default 20. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'first must be a whole number from 1 to 100', { details: { field: 'first' } });
  }
  return size;
}
