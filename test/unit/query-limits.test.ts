import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { bracketNesting, nestingLimitFor } from '../../src/graphql-limits/nesting-guard.js';
import { DEFAULT_LIST_SIZE, measureOperation } from '../../src/graphql-limits/operation-measure.js';

const schema = buildSchema(`
  type Query { patients(first: Int = 20): PatientConnection! me: Me! }
  type Me { subject: String! }
  type PatientConnection { edges: [PatientEdge!]! }
  type PatientEdge { node: Patient! }
  type Patient { id: ID! visits: [Visit!]! }
  type Visit { id: ID! }
`);

function measure(query: string, variables?: Record<string, unknown>) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return measureOperation(schema, document, operation, variables);
}

describe('operation cost, depth and aliases', () => {
  it('multiplies by first (literal, variable, default) and counts edges once', () => {
    // 1 + 100 × (edges 1 + node (1 + visits (1 + 10 × id 1)))
    expect(measure('{ patients(first: 100) { edges { node { visits { id } } } } }').cost).toBe(1 + 100 * (1 + 1 + (1 + DEFAULT_LIST_SIZE)));
    expect(measure('query($n: Int) { patients(first: $n) { edges { node { id } } } }', { n: 7 }).cost).toBe(1 + 7 * 3);
    expect(measure('query($n: Int) { patients(first: $n) { edges { node { id } } } }', {}).cost).toBe(1 + 20 * 3);
    expect(measure('{ patients { edges { node { id } } } }').cost).toBe(1 + 20 * 3);
  });

  it('counts depth and aliases through fragments, measuring each fragment once', () => {
    const result = measure(`
      { a: patients { ...P } b: patients { ...P } me { subject } }
      fragment P on PatientConnection { edges { node { x: id visits { id } } } }`);
    expect(result.depth).toBe(5);
    expect(result.aliases).toBe(4);
    expect(result.cost).toBe(2 * (1 + 20 * (1 + 1 + 1 + (1 + 10))) + 2);
  });

  it('ignores introspection', () => {
    expect(measure('{ __schema { types { name fields { name } } } __typename }')).toEqual({ depth: 0, aliases: 0, fields: 0, directives: 0, cost: 0 });
  });

  it('counts fields and directives, and survives documents not validated yet', () => {
    expect(measure('query @a { me @b { subject @c subject } ...F }')).toMatchObject({ fields: 3, directives: 3 });
    // A fragment cycle and an unknown fragment (validation refuses them later) end the walk.
    const cyclic = measure('{ patients { ...A ...Nope } } fragment A on PatientConnection { edges { node { id } } ...A }');
    expect(cyclic.fields).toBe(4);
  });
});

describe('bracket nesting guard', () => {
  it('counts brackets outside strings and comments', () => {
    const limit = 3;
    expect(bracketNesting('{ a { b { c { d } } } }', limit)).toBe(4);
    expect(bracketNesting('{ a(s: "{{{{{{{{") # {{{{{{{{\n { b } }', limit)).toBe(2);
    expect(bracketNesting('{ a(s: """ {{{{{{{ \\""" {{{{ """) { b } }', limit)).toBe(2);
  });

  it('skips short documents and stays far below a stack overflow', () => {
    expect(bracketNesting('{{{{', 10)).toBe(0);
    expect(nestingLimitFor(12)).toBe(64);
    expect(nestingLimitFor(10_000)).toBe(1000);
    expect(bracketNesting(`{${'a{'.repeat(5000)}b${'}'.repeat(5001)}`, 64)).toBe(5001);
  });
});
