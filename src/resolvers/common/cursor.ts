/**
 * Opaque pagination cursors. A cursor names the tenant (or scope) it was made in and is refused
 * anywhere else, so a cursor can never carry a position from one tenant into another's list.
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { isStorableText } from '../../input/storable-text.js';
import { UUID_PATTERN } from '../../tenancy/model.js';

export function encodeCursor(scopeId: string, position: readonly string[]): string {
  return Buffer.from(JSON.stringify([scopeId, ...position])).toString('base64url');
}

/** What each position of a cursor must be: any storable text, or a uuid (compared with a uuid column). */
export type CursorPart = 'text' | 'uuid';

/** Longer cursors were not made here (ours hold a few short strings). */
const MAX_CURSOR_LENGTH = 2048;

/**
 * The position a cursor holds, checked part by part, so whatever a client forges (another shape,
 * a non-uuid id, NUL bytes) is BAD_USER_INPUT and never reaches SQL.
 */
export function decodeCursor(cursor: string, scopeId: string, parts: readonly CursorPart[]): string[] {
  let parsed: unknown;
  if (cursor.length <= MAX_CURSOR_LENGTH) {
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== parts.length + 1 ||
    parsed[0] !== scopeId ||
    !parts.every((kind, index) => isValidPart(parsed[index + 1], kind))
  ) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'This cursor is not valid here', { details: { field: 'after' } });
  }
  return (parsed as string[]).slice(1);
}

function isValidPart(value: unknown, kind: CursorPart): boolean {
  if (typeof value !== 'string') return false;
  return kind === 'uuid' ? UUID_PATTERN.test(value) : isStorableText(value);
}

/** Page sizes are 1..100; default 20. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'first must be a whole number from 1 to 100', { details: { field: 'first' } });
  }
  return size;
}
