/**
 * Recognises "PostgreSQL cannot be reached right now" in whatever shape it arrives: a socket error
 * from `pg`, a server error with a connection SQLSTATE, `pg`'s plain "Connection terminated"
 * errors, or Prisma 7's wrapping of any of them (PrismaClientKnownRequestError P1001/P1017 with
 * `meta.driverAdapterError.cause`, as @prisma/adapter-pg converts driver errors).
 * These are outages: the client's remedy is to retry, so they answer DATABASE_UNAVAILABLE (503).
 */
import { AppError } from './app-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, ErrorCode } from './error-code.js';

/** Node socket errors on the way to the server. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception) but
 * 08P01 (protocol violation: what a NUL byte in a query causes, a bad request rather than an
 * outage), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up or
 * in recovery), 53300 too many connections.
 */
const SQLSTATES = new Set(['08000', '08003', '08006', '08001', '08004', '08007', '57P01', '57P02', '57P03', '53300']);

/** Prisma's own codes for an unreachable or vanished server. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017']);

/** What @prisma/adapter-pg calls the same conditions. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** `pg` raises these as plain Errors without a code. */
// Not anchored: Prisma wraps them in "Invalid `prisma.x.findMany()` invocation: ..." without a cause.
const PG_MESSAGES = [/Connection terminated/, /Client has encountered a connection error and is not queryable/, /Client was closed and is not queryable/];

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const candidate = error as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; errors?: unknown; meta?: unknown; originalError?: unknown };
  const code = candidate.code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || PRISMA_CODES.has(code))) return true;
  if (typeof candidate.kind === 'string') {
    if (ADAPTER_KINDS.has(candidate.kind)) return true;
    const original = (candidate as { originalCode?: unknown }).originalCode;
    if (typeof original === 'string' && SQLSTATES.has(original)) return true;
  }
  if (typeof candidate.message === 'string' && PG_MESSAGES.some((pattern) => pattern.test(candidate.message as string))) return true;
  const adapterError = (candidate.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
  if (adapterError !== undefined && isDatabaseUnavailable(adapterError, depth + 1)) return true;
  if (candidate.cause !== undefined && isDatabaseUnavailable(candidate.cause, depth + 1)) return true;
  if (candidate.originalError !== undefined && isDatabaseUnavailable(candidate.originalError, depth + 1)) return true;
  // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
  return Array.isArray(candidate.errors) && candidate.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1));
}

/** The client error for an outage; `cause` stays for the logs. */
export function databaseUnavailable(cause?: unknown): AppError {
  return new AppError(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; retry shortly', {
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
    details: { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
    cause,
  });
}
