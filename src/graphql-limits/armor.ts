/**
 * graphql-armor's document-level limits (depth, aliases, directives) as validation rules, with
 * the general (authenticated) maxima. They run once per distinct document (Apollo caches
 * validated documents); the per-caller and per-variables checks are in operation-limits-plugin.
 *
 * Turned off here: armor's token limit (it lexes the document a second time in a plugin; we give
 * graphql-js its own `maxTokens`, which stops the one parse), its cost limit (it ignores `first`
 * sent as a variable and argument defaults; ours counts them) and its field-suggestion masking
 * (suggestions are decided with introspection, elsewhere).
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { type GraphQLError, type ValidationContext } from 'graphql';
import { type Config } from '../config.js';
import { queryTooComplex, type LimitName } from './query-too-complex.js';

export function armorProtection(limits: Config['limits']): ReturnType<ApolloArmor['protect']> {
  // Armor reports "... limit of N exceeded, found M."; we answer QUERY_TOO_COMPLEX with both numbers.
  const refuse = (limit: LimitName, max: number) => ({
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const found = /found (\d+)/.exec(error.message);
        context?.reportError(queryTooComplex(limit, max, found ? Number(found[1]) : null));
      },
    ],
  });
  return new ApolloArmor({
    blockFieldSuggestion: { enabled: false },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxDepth: { n: limits.user.depth, ...refuse('depth', limits.user.depth) },
    maxAliases: { n: limits.user.aliases, ...refuse('aliases', limits.user.aliases) },
    maxDirectives: { n: limits.maxDirectives, ...refuse('directives', limits.maxDirectives) },
  }).protect();
}
