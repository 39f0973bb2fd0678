/**
 * graphql-jit as Apollo Server's executor (GRAPHQL_JIT): the same schema, plugins, validation and
 * formatError; only the execution step changes. Apollo Server 5 lets a "gateway" supply the schema
 * and an executor; ours serves our one local schema and runs each operation through a function
 * graphql-jit compiled for it, falling back to graphql-js for anything jit cannot compile.
 *
 * Compiling costs milliseconds, so by default a document is compiled on its second sighting (a
 * one-off query runs on graphql-js and never pays for it) and kept in a bounded LRU keyed by Apollo's query hash
 * (sha256 of the query text) and the operation name. Resolvers, shield rules and the @tenantLevel
 * transformer live in the schema, so they run unchanged either way.
 */
import { type ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

type Gateway = ApolloServerOptionsWithGateway<never>['gateway'];
type GatewayLoadResult = Awaited<ReturnType<Gateway['load']>>;
type Executor = NonNullable<GatewayLoadResult['executor']>;
type ExecutorRequest = Parameters<Executor>[0];

/** Compiled operations kept (each holds generated code, a few kB). */
export const JIT_CACHE_SIZE = 1000;

/** A cache slot: seen so many times, compiled, or known to need graphql-js. */
type Slot = { seen: number } | { compiled: CompiledQuery } | { fallback: true };

export type JitOptions = {
  /** Executions of a document before it is compiled (1: at once; 2: one-off queries never compile). */
  compileAfter: number;
  cacheSize?: number;
};

export type JitGateway = Gateway & {
  /** Operations compiled and cached now (for tests and diagnostics). */
  compiledOperations(): number;
};

export function jitGateway(schema: GraphQLSchema, { compileAfter, cacheSize = JIT_CACHE_SIZE }: JitOptions): JitGateway {
  const slots = new LRUCache<string, Slot>({ max: cacheSize });

  const runOnGraphqlJs = (request: ExecutorRequest) =>
    execute({
      schema,
      document: request.document,
      contextValue: request.context,
      variableValues: request.request.variables,
      operationName: request.operationName,
    }) as ExecutionResult | Promise<ExecutionResult>;

  function compiledFor(request: ExecutorRequest): CompiledQuery | undefined {
    const key = `${request.queryHash}\u0000${request.operationName ?? ''}`;
    const slot = slots.get(key);
    if (slot !== undefined && 'compiled' in slot) return slot.compiled;
    if (slot !== undefined && 'fallback' in slot) return undefined;
    const seen = (slot?.seen ?? 0) + 1;
    if (seen < compileAfter) {
      slots.set(key, { seen });
      return undefined;
    }
    let compiled: CompiledQuery | undefined;
    try {
      const outcome = compileQuery(schema, request.document as DocumentNode, request.operationName ?? undefined);
      compiled = isCompiledQuery(outcome) ? outcome : undefined;
    } catch {
      compiled = undefined;
    }
    if (!compiled) {
      slots.set(key, { fallback: true });
      return undefined;
    }
    slots.set(key, { compiled });
    return compiled;
  }

  const executor: Executor = async (request) => {
    const compiled = compiledFor(request);
    if (!compiled) return runOnGraphqlJs(request);
    const result = await compiled.query(undefined, request.context, request.request.variables);
    // No data at all: the variables were refused before anything ran. graphql-js words that
    // refusal as Apollo and our clients expect (BAD_USER_INPUT, status 400), and nothing ran, so
    // running it again there is safe.
    if (result.errors?.length && result.data === undefined) return runOnGraphqlJs(request);
    // In graphql-js's key order (errors first), so the serialised answer is byte for byte the same.
    return result.errors?.length ? { errors: result.errors.map(asGraphQLError), data: result.data } : { data: result.data };
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    load: async () => ({ executor }),
    stop: async () => {
      slots.clear();
    },
    compiledOperations: () => [...slots.values()].filter((slot) => 'compiled' in slot).length,
  };
}

/**
 * graphql-jit's errors imitate GraphQLError but leave `extensions` undefined when the original
 * error has none (graphql-js always sets `{}`), and Apollo reads `extensions.code`: a Prisma error
 * would become Apollo's own unformatted INTERNAL_SERVER_ERROR instead of passing formatError.
 * Rebuilt as graphql-js builds them: same message, path, locations and original error.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions ?? undefined });
  if (error.locations) Object.defineProperty(rebuilt, 'locations', { value: error.locations, enumerable: true });
  return rebuilt;
}
