import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError } from './app-error.js';
import { DATABASE_BUSY_MARKER, DATABASE_RETRY_AFTER_SECONDS, ErrorCode } from './error-code.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { type Logger } from '../infra/logger.js';

/**
 * Makes Apollo's `formatError`. Two kinds of errors reach a client as they are:
 * - our AppErrors (they carry an ErrorCode and a message written for clients);
 * - GraphQLErrors with no original error, which graphql-js and Apollo build from the request
 *   itself (syntax, validation, variable coercion), so they only describe the client's input.
 * Everything else is logged with its stack and masked as "Internal server error" plus the
 * request id, so a client never sees SQL, stack traces or connection strings.
 */
export function makeFormatError(logger: Logger, currentRequestId: () => string | undefined) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = innermost(error);
    if (original instanceof AppError) return formatted;
    if (original instanceof GraphQLError && original.originalError === undefined) return formatted;
    const requestId = currentRequestId();
    // The registry's budget was exhausted for longer than DB_ACQUIRE_TIMEOUT_MS. Prisma wraps the
    // error, but keeps its message, which carries the marker.
    if (original instanceof Error && original.message.includes(DATABASE_BUSY_MARKER)) {
      logger.warn({ requestId, path: formatted.path }, 'database busy: no connection within DB_ACQUIRE_TIMEOUT_MS');
      return {
        message: 'The database is busy; retry shortly',
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.DATABASE_BUSY, ...(requestId ? { requestId } : {}) },
      };
    }
    // PostgreSQL unreachable, restarting or shutting down: an outage the client should retry
    // (retryable-errors.plugin.ts sets the 503 and Retry-After).
    if (isDatabaseUnavailable(original)) {
      logger.warn({ err: original, requestId, path: formatted.path }, 'database unavailable');
      return {
        message: 'The database is unavailable; retry shortly',
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.DATABASE_UNAVAILABLE, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, ...(requestId ? { requestId } : {}) },
      };
    }
    logger.error({ err: original, requestId, path: formatted.path }, 'unexpected error in GraphQL request');
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(requestId ? { requestId } : {}) },
    };
  };
}

/** graphql-js wraps what a resolver threw (sometimes twice); the innermost error is the real one. */
function innermost(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError !== undefined && !(current instanceof AppError)) {
    current = current.originalError;
  }
  return current;
}
