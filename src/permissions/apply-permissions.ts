/**
 * Applies graphql-shield, then takes it off the fields whose rule is `allow`.
 *
 * graphql-shield turns every field it covers into an async middleware (two awaits and a cache
 * lookup), including fields whose rule is `allow`, which always calls the resolver unchanged.
 * On a list of 20 patients that is over a hundred extra promises per request. Restoring the
 * original resolver on exactly those fields changes no decision — `allow` always allows, and
 * fields without a rule still fall back to `deny` — and keeps list rendering synchronous.
 */
import { isObjectType, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow } from 'graphql-shield';
import { type IMiddlewareGenerator } from 'graphql-middleware';

type RuleTree = Record<string, unknown>;

export function applyPermissions(schema: GraphQLSchema, permissions: IMiddlewareGenerator<unknown, unknown, unknown>, ruleTree: RuleTree): GraphQLSchema {
  const shielded = applyMiddleware(schema, permissions);
  for (const type of Object.values(shielded.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const original = schema.getType(type.name);
    if (!isObjectType(original)) continue;
    for (const [fieldName, field] of Object.entries(type.getFields())) {
      if (ruleFor(ruleTree, type.name, fieldName) === allow) field.resolve = original.getFields()[fieldName]?.resolve;
    }
  }
  return shielded;
}

/** The rule shield applies to a field: its own, else the type's `*`, else the type's rule. */
function ruleFor(tree: RuleTree, typeName: string, fieldName: string): unknown {
  const entry = tree[typeName];
  if (entry === undefined) return undefined;
  if (typeof entry === 'object' && entry !== null && !isRuleObject(entry)) {
    const fields = entry as Record<string, unknown>;
    return fields[fieldName] ?? fields['*'];
  }
  return entry;
}

/** Rules are class instances (Rule, LogicRule); a field map is a plain object. */
function isRuleObject(value: object): boolean {
  return Object.getPrototypeOf(value) !== Object.prototype;
}
