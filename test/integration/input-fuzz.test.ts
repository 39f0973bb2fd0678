/**
 * Property: whatever a client puts in any argument of any field, the answer is never
 * INTERNAL_SERVER_ERROR (nor HTTP 500). The schema is walked, so a new field or input type is
 * fuzzed without touching this file. Random strings (NUL bytes, unpaired surrogates, SQL, huge),
 * forged cursors (well-formed ones in the right scope with wrong parts, and garbage), ids that are
 * and are not uuids, out-of-range numbers and dates; as tenant admins of both isolation modes and
 * as a system admin, over real HTTP.
 */
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSchemaDefinition } from '../../src/schema.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
/** Who calls: headers per principal, and the scope id their cursors would carry. */
let principals: { name: string; headers: Record<string, string>; scope: string }[];
let knownIds: string[];

/** FUZZ_RUNS=5000 for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

beforeAll(async () => {
  app = await startTestApp();
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  const group = hierarchy.groups[0]!;
  const databaseClinic = await makeClinic(app.tenancy, group, 'DATABASE');
  const schemaClinic = await makeClinic(app.tenancy, group, 'SCHEMA');
  principals = [];
  knownIds = [hierarchy.app.id, group.id];
  for (const clinic of [databaseClinic, schemaClinic]) {
    const token = await app.token({ subject: `admin-${clinic.slug}`, tenantId: clinic.id, roles: ['admin'] });
    const headers = { authorization: `Bearer ${token}` };
    const created = await app.gql<{ createPatient: { id: string } }>(
      'mutation { createPatient(input: { mrn: "m-1", firstName: "Ann", lastName: "Lee" }) { id } }',
      {},
      headers,
    );
    knownIds.push(clinic.id, created.body.data!.createPatient.id);
    principals.push({ name: `admin of ${clinic.isolation} clinic`, headers, scope: clinic.id });
  }
  const systemToken = await app.token({ subject: 'root', roles: ['system_admin'] });
  principals.push({ name: 'system admin', headers: { authorization: `Bearer ${systemToken}` }, scope: 'central' });
});
afterAll(() => app?.stop());

const NASTY_STRINGS = ['', ' ', '\u0000', 'a\u0000b', '\uD800', 'x\uDFFF', "'; DROP TABLE patients; --", '%_\\', '😀', 'x'.repeat(5000), '\n\t\r', '{"a":1}', 'null'];

const uuid = fc.uuid();
const plain = fc.stringMatching(/^[A-Za-z][a-z]{0,11}$/);
const nasty = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 20 }));
/** Plain text half of the time, so that one nasty field among valid ones gets past validation to SQL. */
const text = fc.oneof(plain, nasty, plain.map((word) => `${word}\u0000`));
const cursorPart: fc.Arbitrary<unknown> = fc.oneof(text, uuid, fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A cursor: mostly well-formed (our scope, our shape) with parts that are wrong in some way. */
const cursor = (scope: string) =>
  fc.oneof(
    fc.tuple(fc.array(cursorPart, { minLength: 0, maxLength: 4 })).map(([parts]) => b64([scope, ...parts])),
    fc.tuple(text, text, fc.oneof(uuid, text)).map((parts) => b64([scope, ...parts])),
    fc.tuple(fc.oneof(fc.constant('central'), uuid), text).map((parts) => b64(parts)),
    text.map(b64),
    text,
  );

const id = () => fc.oneof(uuid, fc.constantFrom(...knownIds), text, fc.integer().map(String));
const int = fc.oneof(
  fc.integer({ min: -5, max: 120 }),
  fc.integer({ min: 1990, max: 2110 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5),
);
const dateTime = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ min: new Date('1999-01-01'), max: new Date('2101-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '+275760-09-13T00:00:00.000Z'),
  text,
);

/** A value for a GraphQL input type; `argName` picks cursors for `after`. */
function valueFor(type: GraphQLInputType, argName: string, scope: string, depth = 0): fc.Arbitrary<unknown> {
  const nullable = !isNonNullType(type);
  const inner = getNullableType(type) as GraphQLInputType;
  let arbitrary: fc.Arbitrary<unknown>;
  if (isListType(inner)) {
    arbitrary = fc.array(valueFor(inner.ofType, argName, scope, depth + 1), { maxLength: depth > 2 ? 0 : 3 });
  } else if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields());
    arbitrary = fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, field.name, scope, depth + 1)])), {
      requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
    });
  } else if (isEnumType(inner)) {
    arbitrary = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...inner.getValues().map((value) => value.name)) }, { weight: 1, arbitrary: text });
  } else if (isScalarType(inner)) {
    switch (inner.name) {
      case 'ID':
        arbitrary = id();
        break;
      case 'Int':
        arbitrary = int;
        break;
      case 'Float':
        arbitrary = fc.double();
        break;
      case 'Boolean':
        arbitrary = fc.boolean();
        break;
      case 'DateTimeISO':
        arbitrary = dateTime;
        break;
      default:
        arbitrary = stringFor(argName, scope);
    }
  } else {
    throw new Error(`unexpected input type ${String(inner)}`);
  }
  return nullable ? fc.option(arbitrary, { nil: null, freq: 2 }) : arbitrary;
}

/** Strings shaped for the fields that validate a format, so the others' values get further. */
function stringFor(name: string, scope: string): fc.Arbitrary<unknown> {
  if (name === 'after') return cursor(scope);
  if (name === 'email') return fc.oneof(fc.emailAddress(), text);
  if (name === 'phone') return fc.oneof(fc.constantFrom('+1 555 0100', '555-0101'), text);
  if (/date/i.test(name)) {
    return fc.oneof(
      fc.date({ min: new Date('1700-01-01'), max: new Date('2025-12-31'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
      fc.constantFrom('0000-01-01', '0001-01-01', '9999-12-31', '2023-02-29', '1970-01-01'),
      text,
    );
  }
  return text;
}

type Operation = { query: string; variables: Record<string, unknown> };

/** One operation calling `field` with random arguments, as variables (or inlined, for scalar text). */
function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, scope: string): fc.Arbitrary<Operation> {
  const args = field.args as readonly GraphQLArgument[];
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return fc
    .tuple(fc.tuple(...args.map((arg) => valueFor(arg.type, arg.name, scope))), fc.boolean())
    .map(([values, inline]) => {
      const definitions: string[] = [];
      const passed: string[] = [];
      const variables: Record<string, unknown> = {};
      args.forEach((arg, index) => {
        const value = values[index];
        const named = getNamedType(arg.type);
        if (inline && typeof value === 'string' && (named.name === 'String' || named.name === 'ID') && !isListType(getNullableType(arg.type))) {
          passed.push(`${arg.name}: ${JSON.stringify(value)}`);
          return;
        }
        definitions.push(`$a${index}: ${String(arg.type)}`);
        passed.push(`${arg.name}: $a${index}`);
        variables[`a${index}`] = value;
      });
      const head = definitions.length > 0 ? `${kind} Fuzz(${definitions.join(', ')})` : kind;
      const call = passed.length > 0 ? `${field.name}(${passed.join(', ')})` : field.name;
      return { query: `${head} { ${call}${selection} }`, variables };
    });
}

describe('random input at every argument of every field', () => {
  it(`never answers INTERNAL_SERVER_ERROR (${RUNS} operations)`, async () => {
    const schema = await makeSchemaDefinition();
    const roots = [
      ...Object.values(schema.getQueryType()!.getFields()).map((field) => ({ kind: 'query' as const, field })),
      ...Object.values(schema.getMutationType()!.getFields()).map((field) => ({ kind: 'mutation' as const, field })),
    ];
    const seen = new Map<string, number>();
    const arbitrary = fc
      .tuple(fc.constantFrom(...principals), fc.constantFrom(...roots))
      .chain(([principal, root]) => operationFor(root.kind, root.field, principal.scope).map((operation) => ({ principal, field: root.field.name, operation })));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ principal, field, operation }) => {
        const { status, body } = await app.gql(operation.query, operation.variables, principal.headers);
        const codes = (body.errors ?? []).map((error) => error.extensions?.code);
        if (!codes.includes('BAD_USER_INPUT') && !codes.includes('GRAPHQL_VALIDATION_FAILED')) seen.set(field, (seen.get(field) ?? 0) + 1);
        expect(codes, `${principal.name}: ${operation.query} ${JSON.stringify(operation.variables).slice(0, 500)} → ${status} ${JSON.stringify(body).slice(0, 500)}`).not.toContain(
          'INTERNAL_SERVER_ERROR',
        );
        expect(status).not.toBe(500);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // Not every operation may be refused at the door: most fields must have run their resolvers at least once.
    expect(seen.size).toBeGreaterThan(roots.length / 2);
  });
});
