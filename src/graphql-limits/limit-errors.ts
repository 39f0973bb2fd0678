/**
 * Makes refusals of the parser and of validation rules answer QUERY_TOO_COMPLEX:
 * - Apollo wraps validation errors in its own ValidationError, which overwrites `code` with
 *   GRAPHQL_VALIDATION_FAILED (our AppError stays the original error, with its details);
 * - graphql-js's `maxTokens` refusal is a syntax error ("Document contains more that N tokens").
 * Both already answer HTTP 400.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../errors/index.js';
import { queryTooComplex } from './query-too-complex.js';

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens/;

export function withLimitErrors(format: FormatError): FormatError {
  return (formatted, error) => {
    const limitError = limitErrorIn(error);
    if (limitError) {
      const { http: _http, ...extensions } = limitError.extensions;
      return { message: limitError.message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions };
    }
    return format(formatted, error);
  };
}

function limitErrorIn(error: unknown): AppError | undefined {
  let current = error;
  while (current instanceof GraphQLError) {
    if (current instanceof AppError) return current.code === ErrorCode.QUERY_TOO_COMPLEX ? current : undefined;
    const tokens = TOKEN_LIMIT.exec(current.message);
    if (tokens) return queryTooComplex('tokens', Number(tokens[1]), null);
    current = current.originalError;
  }
  return undefined;
}
