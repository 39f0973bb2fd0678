import { buildSchema, Lexer, parse, Source, TokenKind, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { nestingLimitFor, scanQueryText } from '../../src/graphql-limits/nesting-guard.js';
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

describe('query text scan (bracket nesting, tokens)', () => {
  it('counts brackets outside strings and comments', () => {
    const limit = 3;
    expect(scanQueryText('{ a { b { c { d } } } }', limit).nesting).toBe(4);
    expect(scanQueryText('{ a(s: "{{{{{{{{") # {{{{{{{{\n { b } }', limit).nesting).toBe(2);
    expect(scanQueryText('{ a(s: """ {{{{{{{ \\""" {{{{ """) { b } }', limit).nesting).toBe(2);
  });

  it('skips short documents and stays far below a stack overflow', () => {
    expect(scanQueryText('{{{{', 10).nesting).toBe(0);
    expect(nestingLimitFor(12)).toBe(64);
    expect(nestingLimitFor(10_000)).toBe(1000);
    // Counting stops at the first bracket past the limit.
    expect(scanQueryText(`{${'a{'.repeat(5000)}b${'}'.repeat(5001)}`, 64).nesting).toBe(65);
  });

  it('stops reading once the text holds more tokens than the parser accepts', () => {
    // Deep nesting after 10 tokens is not reached with maxTokens 10: the parser refuses first.
    const tail = `{${'a{'.repeat(100)}b${'}'.repeat(101)}`;
    const long = `{ ${'x '.repeat(20)}}${tail}`;
    expect(scanQueryText(long, 64).nesting).toBe(65);
    expect(scanQueryText(long, 64, 10).nesting).toBe(1);
    // ...and says so: the parser would refuse it.
    expect(scanQueryText(long, 64, 10)).toEqual({ nesting: 1, tooManyTokens: true });
    expect(scanQueryText(long, 64)).toEqual({ nesting: 65, tooManyTokens: false });
  });

  it("never stops before the parser would: its token count is at most graphql-js's", () => {
    // Pieces the count gets exactly (brackets, names, strings, comments) and pieces it under-counts
    // (numbers, `$`, `:`, `=`, `...`, `@`): with only the first kind, one token too many anywhere fails.
    const exact = ['{', '}', '(', ')', '[', ']', 'a', 'b1', '_c', '"s{{{"', '"""block {{ \\""" }}"""', '# comment {{\n'];
    const under = ['x: 1.5e3', '$v: Int = 10', '...F', '@skip', '1e5', '[1, 2]'];
    for (let seed = 1; seed <= 400; seed++) {
      let state = seed;
      const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
      const pieces = seed % 2 === 0 ? exact : [...exact, ...under];
      const text = Array.from({ length: 5 + Math.floor(random() * 60) }, () => pieces[Math.floor(random() * pieces.length)]).join(' ');
      const lexer = new Lexer(new Source(text));
      let real = 0;
      while (lexer.advance().kind !== TokenKind.EOF) real++;
      // Then more opening brackets than the text has characters (a new deepest point at the very
      // end): a parser that accepts exactly all these tokens reads the last bracket, so a scan capped
      // at that many tokens must reach it too. One token counted too many stops it short.
      const opening = 2 * text.length + 2;
      const document = `${text}\n${'{'.repeat(opening)}`;
      const noLimit = document.length - 1; // (a document no longer than the limit is not scanned)
      const full = scanQueryText(document, noLimit).nesting;
      // The parser reads the last bracket as token real + opening; capped one below, it refuses
      // there, so the scan must still have counted that bracket, and stop no earlier.
      expect(scanQueryText(document, noLimit, real + opening - 1).nesting).toBe(full);
      // A document the parser takes (exactly at its limit) is never called too long.
      expect(scanQueryText(document, noLimit, real + opening).tooManyTokens).toBe(false);
      // With pieces it counts exactly, one token fewer allowed stops it one bracket sooner.
      if (pieces === exact) expect(scanQueryText(document, noLimit, real + opening - 2).nesting).toBe(full - 1);
    }
  });
});
