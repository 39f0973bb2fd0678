import { AppError, ErrorCode } from '../../errors/index.js';
import { UUID_PATTERN } from '../../tenancy/model.js';


/** Ids are uuids; anything else cannot name a row, so it is simply "not found" (never a hint). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Maps Prisma's known request errors to client errors; everything else goes on unchanged. */
export function translatePrismaError(error: unknown, what: string): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'P2025') return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
  if (code === 'P2002') {
    const target = (error as { meta?: { target?: unknown } }).meta?.target;
    return new AppError(ErrorCode.CONFLICT, `A ${what.toLowerCase()} with this ${Array.isArray(target) ? target.join(', ') : 'value'} already exists`);
  }
  return error;
}
