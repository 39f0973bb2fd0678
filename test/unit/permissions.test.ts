import { isObjectType, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ruleTree } from '../../src/permissions/permissions.js';
import { makeSchemaDefinition } from '../../src/schema.js';

describe('the permission rule map', () => {
  it('has an explicit rule for every root field and every object type', async () => {
    const schema = await makeSchemaDefinition();
    const missing: string[] = [];
    const tree = ruleTree as Record<string, unknown>;
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      if (!root) continue;
      const rules = tree[root.name] as Record<string, unknown> | undefined;
      for (const field of Object.keys(root.getFields())) if (!rules?.[field]) missing.push(`${root.name}.${field}`);
    }
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || type.name === 'Query' || type.name === 'Mutation') continue;
      if (!tree[type.name]) missing.push(type.name);
    }
    expect(missing).toEqual([]);
  });

  it('names no field or type the schema does not have', async () => {
    const schema = await makeSchemaDefinition();
    const stale: string[] = [];
    for (const [typeName, rules] of Object.entries(ruleTree)) {
      const type = schema.getType(typeName);
      if (!type || !isObjectType(type)) {
        stale.push(typeName);
        continue;
      }
      if (typeof rules === 'object' && rules !== null && !('resolve' in rules) && (typeName === 'Query' || typeName === 'Mutation')) {
        for (const field of Object.keys(rules)) if (!type.getFields()[field]) stale.push(`${typeName}.${field}`);
      }
    }
    expect(stale).toEqual([]);
  });
});

describe('the printed schema', () => {
  it('carries @tenantLevel on types and fields', async () => {
    const { printSchemaWithDirectives } = await import('@graphql-tools/utils');
    const sdl = printSchemaWithDirectives(await makeSchemaDefinition());
    expect(sdl).toContain('directive @tenantLevel(level: TenantLevel!) on OBJECT | FIELD_DEFINITION');
    expect(sdl).toMatch(/type Patient @tenantLevel\(level: TENANT\)/);
    expect(sdl).toMatch(/catalogItems: \[CatalogItem!\]! @tenantLevel\(level: APP\)/);
  });
});

describe('applyPermissions', () => {
  it('keeps shield on guarded fields and takes it off fields whose rule is allow', async () => {
    const { makeSchema } = await import('../../src/schema.js');
    const executable = await makeSchema();
    const resolve = (type: string, name: string) => (executable.getType(type) as GraphQLObjectType).getFields()[name]!.resolve!;
    const context = { scope: { level: 'TENANT' }, principal: { kind: 'anonymous' } };
    // allow: the plain resolver answers synchronously
    expect(resolve('Patient', 'mrn')({ mrn: 'A-1' }, {}, context, {} as never)).toBe('A-1');
    // guarded: shield's async middleware runs the rules first
    expect(resolve('Query', 'patients')(undefined, {}, { ...context }, { fieldName: 'patients', parentType: executable.getQueryType() } as never)).toBeInstanceOf(Promise);
  });
});
