import { type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import { BREAK, visit } from 'graphql';
import { AppError, ErrorCode } from '../errors/index.js';
import { findUnstorableText, isStorableText } from './storable-text.js';

const MESSAGE = 'Text may not contain NUL characters (\\u0000) or unpaired UTF-16 surrogates';

const listener: GraphQLRequestListener<never> = {
  async didResolveOperation({ request, source, document }) {
    const inVariables = findUnstorableText(request.variables);
    if (inVariables !== undefined) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `${MESSAGE} (variable ${inVariables})`, { details: { variable: inVariables } });
    }
    // A literal can only hold such text through an escape (the lexer refuses raw control
    // characters), so documents without `\u` are not walked at all. `source` rather than
    // `request.query`: a persisted query sent by hash alone has no `query`.
    if (!source.includes('\\u')) return;
    let found = false;
    visit(document, {
      StringValue(node) {
        if (isStorableText(node.value)) return undefined;
        found = true;
        return BREAK;
      },
    });
    if (found) throw new AppError(ErrorCode.BAD_USER_INPUT, MESSAGE);
  },
};

/**
 * Refuses, before execution and in one place, any operation whose arguments carry text PostgreSQL
 * cannot store (storable-text.ts): BAD_USER_INPUT instead of a database error deep in a resolver.
 */
export function storableInputPlugin<C extends object>(): ApolloServerPlugin<C> {
  return { requestDidStart: async () => listener as GraphQLRequestListener<C> };
}
