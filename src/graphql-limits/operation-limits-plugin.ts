/**
 * Checks each operation against its caller's limits before graphql-js validates it, and again
 * before execution for documents Apollo had cached.
 *
 * Why before validation: graphql-js's validation is quadratic in places (OverlappingFieldsCanBeMerged);
 * a 5,000-token document of repeated fields or aliases costs it 150–300 ms, which an armor rule
 * reporting at the same pass cannot save. validationDidStart runs after parsing, with the
 * request's context (identification runs first) and variables. Why again later: Apollo caches
 * validated documents and skips validation (and this hook) for a document it has seen, so the
 * per-caller check must also run in didResolveOperation, which every request passes.
 *
 * A hook that throws makes Apollo answer 500 unless a plugin rethrows the error from
 * unexpectedErrorProcessingRequest; then Apollo answers it with its own HTTP status (400). This is
 * how graphql-armor's Apollo plugins refuse early too.
 */
import { type ApolloServerPlugin, type GraphQLRequestContext, type GraphQLRequestListener } from '@apollo/server';
import { getOperationAST, type DocumentNode } from 'graphql';
import { type Config } from '../config.js';
import { type RequestContext } from '../context/request-context.js';
import { measureOperation } from './operation-measure.js';
import { isQueryTooComplex, queryTooComplex } from './query-too-complex.js';

type Limits = Config['limits'];

export function operationLimitsPlugin(limits: Limits): ApolloServerPlugin<RequestContext> {
  /** Requests checked before validation need no second check before execution. */
  const checked = new WeakSet<object>();
  const check = ({ schema, request, contextValue }: GraphQLRequestContext<RequestContext>, document: DocumentNode | undefined) => {
    if (!document || checked.has(request)) return;
    checked.add(request);
    const operation = getOperationAST(document, request.operationName);
    if (operation) refuseOverLimits(limits, contextValue, measureOperation(schema, document, operation, request.variables));
  };
  const listener: GraphQLRequestListener<RequestContext> = {
    async validationDidStart(requestContext) {
      check(requestContext, requestContext.document);
    },
    async didResolveOperation(requestContext) {
      check(requestContext, requestContext.document);
    },
  };
  return {
    // The listener holds no per-request state, so one object serves every request.
    async requestDidStart() {
      return listener;
    },
    async unexpectedErrorProcessingRequest({ error }) {
      if (isQueryTooComplex(error)) throw error;
    },
  };
}

function refuseOverLimits(limits: Limits, context: RequestContext, measured: ReturnType<typeof measureOperation>): void {
  const anonymous = context.principal.kind === 'anonymous';
  const max = anonymous ? limits.anonymous : limits.user;
  if (measured.depth > max.depth) throw queryTooComplex('depth', max.depth, measured.depth, anonymous);
  if (measured.aliases > max.aliases) throw queryTooComplex('aliases', max.aliases, measured.aliases, anonymous);
  if (measured.fields > max.fields) throw queryTooComplex('fields', max.fields, measured.fields, anonymous);
  if (measured.directives > limits.maxDirectives) throw queryTooComplex('directives', limits.maxDirectives, measured.directives);
  if (measured.cost > max.cost) throw queryTooComplex('cost', max.cost, measured.cost, anonymous);
}
