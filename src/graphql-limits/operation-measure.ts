/**
 * Depth, aliases and cost of one operation, measured in one walk with the request's variables.
 *
 * Cost: every field costs 1, and what a field selects costs its own total times the number of
 * items the field can return: its `first` argument (literal, variable or the argument's default),
 * else DEFAULT_LIST_SIZE for a list without `first`. `edges` of a connection count once: the
 * connection's `first` already multiplied them. So `patients(first: 100) { edges { node { visits
 * { id } } } }` costs 1 + 100 × (1 + 1 + (1 + 10 × 1)) = 1,301.
 *
 * Fragments are measured once per request and reused wherever they are spread, so a document
 * that spreads fragments into fragments cannot make this walk exponential. It also runs on
 * documents not validated yet (unknown fields count 1, unknown fragments and cycles nothing). Introspection fields
 * count nothing (introspection is off in production; Sandbox's own query must pass).
 */
import {
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export type OperationMeasure = {
  depth: number;
  aliases: number;
  /** Field selections, each fragment spread counted with its fields (no list multipliers). */
  fields: number;
  directives: number;
  cost: number;
};

/** Items assumed for a list field that has no `first` argument (visits of a patient, lines of an invoice). */
export const DEFAULT_LIST_SIZE = 10;

const EMPTY: OperationMeasure = { depth: 0, aliases: 0, fields: 0, directives: 0, cost: 0 };

/** Fragment definitions by name, per document (Apollo reuses document objects from its cache). */
const fragmentsOf = new WeakMap<DocumentNode, Map<string, FragmentDefinitionNode>>();

export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): OperationMeasure {
  let fragments = fragmentsOf.get(document);
  if (fragments === undefined) {
    fragments = new Map();
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    fragmentsOf.set(document, fragments);
  }
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return EMPTY;
  const walker = new Walker(schema, fragments, variables);
  const measure = walker.selectionSet(operation.selectionSet, rootType);
  return { ...measure, directives: measure.directives + (operation.directives?.length ?? 0) };
}

class Walker {
  private readonly fragmentMeasures = new Map<string, OperationMeasure>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown> | undefined,
  ) {}

  selectionSet(set: SelectionSetNode, parentType: GraphQLNamedType | undefined): OperationMeasure {
    let depth = 0;
    let aliases = 0;
    let fields = 0;
    let directives = 0;
    let cost = 0;
    for (const selection of set.selections) {
      let inner: OperationMeasure;
      if (selection.kind === Kind.FIELD) {
        inner = this.field(selection, parentType);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parentType;
        inner = this.selectionSet(selection.selectionSet, type);
      } else {
        inner = this.fragmentSpread(selection.name.value);
      }
      if (inner.depth > depth) depth = inner.depth;
      aliases += inner.aliases;
      fields += inner.fields;
      directives += inner.directives + (selection.kind === Kind.FIELD ? 0 : (selection.directives?.length ?? 0));
      cost += inner.cost;
    }
    return { depth, aliases, fields, directives, cost };
  }

  private fragmentSpread(name: string): OperationMeasure {
    const known = this.fragmentMeasures.get(name);
    if (known) return known;
    const fragment = this.fragments.get(name);
    // Validation refused unknown fragments and cycles before this runs; stay safe anyway.
    this.fragmentMeasures.set(name, EMPTY);
    if (!fragment) return EMPTY;
    const measure = this.selectionSet(fragment.selectionSet, this.schema.getType(fragment.typeCondition.name.value));
    this.fragmentMeasures.set(name, measure);
    return measure;
  }

  private field(node: FieldNode, parentType: GraphQLNamedType | undefined): OperationMeasure {
    const alias = node.alias ? 1 : 0;
    const directives = node.directives?.length ?? 0;
    if (node.name.value.startsWith('__')) return { depth: 0, aliases: alias, fields: 0, directives, cost: 0 };
    const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[node.name.value] : undefined;
    if (!node.selectionSet) return { depth: 1, aliases: alias, fields: 1, directives, cost: 1 };
    const inner = this.selectionSet(node.selectionSet, definition ? getNamedType(definition.type) : undefined);
    return {
      depth: 1 + inner.depth,
      aliases: alias + inner.aliases,
      fields: 1 + inner.fields,
      directives: directives + inner.directives,
      cost: 1 + this.itemsOf(node, definition) * inner.cost,
    };
  }

  /** How many items `node` can return: its `first`, else a list's assumed size, else 1. */
  private itemsOf(node: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): number {
    if (!definition) return 1;
    const firstArgument = definition.args.find((argument) => argument.name === 'first');
    if (firstArgument) {
      const given = node.arguments?.find((argument) => argument.name.value === 'first');
      const value = (given ? valueFromAST(given.value, firstArgument.type, this.variables) : undefined) ?? firstArgument.defaultValue;
      return typeof value === 'number' && value >= 1 ? value : DEFAULT_LIST_SIZE;
    }
    const type = getNullableType(definition.type);
    if (!isListType(type)) return 1;
    // A connection's edges: its `first` counted them already.
    return getNamedType(type).name.endsWith('Edge') ? 1 : DEFAULT_LIST_SIZE;
  }
}
