import { ApolloServer } from '@apollo/server';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLNonNull, GraphQLInt, GraphQLList } from 'graphql';
import { describe, expect, it } from 'vitest';
import { jitGateway } from '../../src/graphql-execution/jit-gateway.js';

const Item = new GraphQLObjectType({
  name: 'Item',
  fields: { id: { type: new GraphQLNonNull(GraphQLInt) }, label: { type: GraphQLString, resolve: (item: { id: number }, _args, context: { tenant: string }) => `${context.tenant}-${item.id}` } },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      items: { type: new GraphQLList(Item), args: { first: { type: new GraphQLNonNull(GraphQLInt) } }, resolve: (_root, args: { first: number }) => Array.from({ length: args.first }, (_, id) => ({ id })) },
      broken: { type: GraphQLString, resolve: () => Promise.reject(new Error('driver said no')) },
      refused: { type: GraphQLString, resolve: () => { throw new GraphQLError('not yours', { extensions: { code: 'FORBIDDEN' } }); } },
    },
  }),
});

/** Apollo with graphql-js or with the jit gateway; errors keep code and whether an original error is there. */
async function serve(jit: boolean) {
  const gateway = jit ? jitGateway(schema, { compileAfter: 2 }) : undefined;
  const server = new ApolloServer<{ tenant: string }>({
    ...(gateway ? { gateway } : { schema }),
    formatError: (formatted, error) => ({ ...formatted, extensions: { ...formatted.extensions, wrapped: (error as GraphQLError).originalError?.message ?? null } }),
  });
  await server.start();
  const run = async (query: string, variables?: Record<string, unknown>, operationName?: string) => {
    const response = await server.executeOperation({ query, variables, operationName }, { contextValue: { tenant: 't1' } });
    return JSON.stringify(response.body);
  };
  return { run, gateway, stop: () => server.stop() };
}

const OPERATIONS: [string, Record<string, unknown>?][] = [
  ['{ items(first: 3) { id label } }'],
  ['query Q($n: Int!) { items(first: $n) { id label } }', { n: 2 }],
  ['query Q($n: Int!) { items(first: $n) { id } }', { n: 'many' }],
  ['query Q($n: Int!) { items(first: $n) { id } }', {}],
  ['{ broken items(first: 1) { id } }'],
  ['{ refused }'],
];

describe('jitGateway', () => {
  it('answers byte for byte as graphql-js: data, resolver errors, refused variables', async () => {
    const plain = await serve(false);
    const jit = await serve(true);
    try {
      for (const [query, variables] of OPERATIONS) {
        const expected = await plain.run(query, variables);
        // First sighting on graphql-js, then compiled: all three answers are the same.
        for (let round = 0; round < 3; round++) expect(await jit.run(query, variables), `${query} round ${round}`).toBe(expected);
      }
      // Five documents (the two refused-variables cases share one).
      expect(jit.gateway!.compiledOperations()).toBe(5);
    } finally {
      await plain.stop();
      await jit.stop();
    }
  });

  it('compiles a document only on its second execution, and each operation of it apart', async () => {
    const jit = await serve(true);
    try {
      await jit.run('{ items(first: 1) { id } }');
      expect(jit.gateway!.compiledOperations()).toBe(0);
      await jit.run('{ items(first: 1) { id } }');
      expect(jit.gateway!.compiledOperations()).toBe(1);
      const two = 'query A { items(first: 1) { id } } query B { refused }';
      for (let i = 0; i < 2; i++) expect(await jit.run(two, undefined, 'A')).toBe('{"kind":"single","singleResult":{"data":{"items":[{"id":0}]}}}');
      expect(jit.gateway!.compiledOperations()).toBe(2);
      for (let i = 0; i < 2; i++) expect(await jit.run(two, undefined, 'B')).toContain('"code":"FORBIDDEN"');
      expect(jit.gateway!.compiledOperations()).toBe(3);
    } finally {
      await jit.stop();
    }
  });
});
