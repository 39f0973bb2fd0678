import { AppError, ErrorCode, isAppError } from '../errors/index.js';

/** The limits a document is checked against, by the name a refusal reports (docs/security.md). */
export type LimitName = 'tokens' | 'nesting' | 'depth' | 'aliases' | 'fields' | 'directives' | 'cost';

/**
 * QUERY_TOO_COMPLEX (400): which limit, its maximum and what the document has, so a client
 * developer sees at once how far over it is. `actual` is null when counting stopped at the limit
 * (tokens: the parser aborts there, which is the point).
 */
export function queryTooComplex(limit: LimitName, max: number, actual: number | null, anonymous = false): AppError {
  const over = actual === null ? `more than ${max}` : `${actual}, more than the maximum of ${max}`;
  return new AppError(ErrorCode.QUERY_TOO_COMPLEX, `Query too complex: ${limit} is ${over}${anonymous ? ' for anonymous requests' : ''}`, {
    details: { limit, max, actual, ...(anonymous ? { anonymous: true } : {}) },
  });
}

export function isQueryTooComplex(error: unknown): error is AppError {
  return isAppError(error) && error.code === ErrorCode.QUERY_TOO_COMPLEX;
}
