import { type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import { DATABASE_RETRY_AFTER_SECONDS, ErrorCode, httpStatusOf } from './error-code.js';

/** Seconds to wait per retryable code that formatError produces (it cannot set HTTP status itself). */
const RETRY_AFTER: ReadonlyMap<unknown, number> = new Map([
  [ErrorCode.DATABASE_UNAVAILABLE, DATABASE_RETRY_AFTER_SECONDS],
  [ErrorCode.DATABASE_BUSY, 1],
]);

// Stateless, so one listener serves every request (no allocation per request).
const listener: GraphQLRequestListener<never> = {
  async willSendResponse({ response }) {
    if (response.body.kind !== 'single') return;
    const errors = response.body.singleResult.errors;
    if (errors === undefined) return;
    for (const error of errors) {
      const code = error.extensions?.code;
      const seconds = RETRY_AFTER.get(code);
      if (seconds === undefined) continue;
      if (response.http.status === undefined || response.http.status === 200) response.http.status = httpStatusOf[code as ErrorCode];
      response.http.headers.set('retry-after', String(seconds));
      return;
    }
  },
};

/**
 * Apollo takes a response's HTTP status from the errors as thrown, before formatError runs; the
 * outage codes formatError derives from driver errors (DATABASE_UNAVAILABLE, DATABASE_BUSY) get
 * their 503 and `Retry-After` here, so clients and load balancers see a retryable answer.
 */
export function retryableErrorsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return { requestDidStart: async () => listener as GraphQLRequestListener<C> };
}
