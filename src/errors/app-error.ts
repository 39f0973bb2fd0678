import { GraphQLError } from 'graphql';
import { ErrorCode, httpStatusOf } from './error-code.js';

export type AppErrorOptions = {
  /** Extra, client-safe details merged into `extensions`. Never put secrets here. */
  details?: Record<string, unknown>;
  /** HTTP headers to send with the response, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  /** The cause, for logs only; never sent to the client. */
  cause?: unknown;
};

/**
 * The one base class for errors a client may see. It carries an ErrorCode and the HTTP status
 * Apollo answers with (`extensions.http`, which Apollo strips from the response body).
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    const headers = options.headers ? new Map(Object.entries(options.headers)) : undefined;
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: {
        ...options.details,
        code,
        http: { status: httpStatusOf[code], ...(headers ? { headers } : {}) },
      },
    });
    this.code = code;
    this.name = 'AppError';
  }
}

export const badUserInput = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { details });
export const notFound = (what: string) => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (message = 'You are not allowed to do this') => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'Authentication required') => new AppError(ErrorCode.UNAUTHENTICATED, message);

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
