/**
 * Checks each operation against its caller's limits after validation, before execution.
 *
 * Why a plugin hook and not only validation rules: Apollo caches validated documents and skips
 * validation for a document it has seen, so rules cannot depend on who sends the document or on
 * its variables. didResolveOperation runs for every request, after identification (the context is
 * built first), with the variables: anonymous callers get their tighter limits, and `first: $n`
 * counts with the value sent.
 */
import { type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import { type Config } from '../config.js';
import { type RequestContext } from '../context/request-context.js';
import { measureOperation } from './operation-measure.js';
import { queryTooComplex } from './query-too-complex.js';

export function operationLimitsPlugin(limits: Config['limits']): ApolloServerPlugin<RequestContext> {
  const listener: GraphQLRequestListener<RequestContext> = {
    async didResolveOperation({ schema, document, operation, request, contextValue }) {
      if (!operation) return; // Apollo answers the missing operation itself
      const anonymous = contextValue.principal.kind === 'anonymous';
      const max = anonymous ? limits.anonymous : limits.user;
      const measured = measureOperation(schema, document, operation, request.variables);
      if (measured.depth > max.depth) throw queryTooComplex('depth', max.depth, measured.depth, anonymous);
      if (measured.aliases > max.aliases) throw queryTooComplex('aliases', max.aliases, measured.aliases, anonymous);
      if (measured.cost > max.cost) throw queryTooComplex('cost', max.cost, measured.cost, anonymous);
    },
  };
  return {
    // The listener holds no per-request state, so one object serves every request.
    async requestDidStart() {
      return listener;
    },
  };
}
