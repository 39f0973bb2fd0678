import 'reflect-metadata';
import { type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ServerInfoResolver } from './resolvers/server-info/server-info.resolver.js';

/** The executable schema: type-graphql resolvers, then directive transformers and shield. */
export async function makeSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ServerInfoResolver],
    validate: false,
  });
}
