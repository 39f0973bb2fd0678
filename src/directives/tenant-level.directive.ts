/**
 * `@tenantLevel(level: TenantLevel!)` on OBJECT and FIELD_DEFINITION says at which level a field's
 * data lives. The transformer refuses the field with TENANT_CONTEXT_REQUIRED when the request has
 * no context at that level; otherwise the resolver gets that level's handle through `@LevelDb()`.
 * A field's own directive wins over its type's.
 */
import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  DirectiveLocation,
  GraphQLDirective,
  GraphQLNonNull,
  GraphQLSchema,
  type GraphQLEnumType,
  type GraphQLFieldResolver,
} from 'graphql';
import { createParameterDecorator } from 'type-graphql';
import { type RequestContext } from '../context/request-context.js';
import { type DataLevel } from '../tenancy/model.js';
import { AppError, ErrorCode } from '../errors/index.js';
import { type IdentifiedScope } from '../tenancy/identification/identification-types.js';

export const TENANT_LEVEL_DIRECTIVE = 'tenantLevel';

/** SDL of the directive, as `schema.graphql` prints it. */
export const tenantLevelDirectiveSdl = `directive @${TENANT_LEVEL_DIRECTIVE}(level: TenantLevel!) on OBJECT | FIELD_DEFINITION`;

/** For type-graphql's `@Directive(...)`: `@Directive(tenantLevel('TENANT'))`. */
export const tenantLevel = (level: DataLevel) => `@${TENANT_LEVEL_DIRECTIVE}(level: ${level})`;

/** Which request scopes can serve data of each level: a tenant request also reaches its group and app. */
const SERVES: Record<DataLevel, ReadonlySet<IdentifiedScope['level']>> = {
  CENTRAL: new Set(['CENTRAL', 'APP', 'CENTRAL_TENANT', 'TENANT']),
  APP: new Set(['APP', 'CENTRAL_TENANT', 'TENANT']),
  CENTRAL_TENANT: new Set(['CENTRAL_TENANT', 'TENANT']),
  TENANT: new Set(['TENANT']),
};

export function scopeServes(scope: IdentifiedScope, level: DataLevel): boolean {
  return SERVES[level].has(scope.level);
}

/** Adds the directive's definition to a schema built by type-graphql (which knows only its usages). */
export function withTenantLevelDirective(schema: GraphQLSchema): GraphQLSchema {
  const levelEnum = schema.getType('TenantLevel') as GraphQLEnumType | undefined;
  if (!levelEnum) throw new Error('the TenantLevel enum must be registered before the @tenantLevel directive is added');
  const directive = new GraphQLDirective({
    name: TENANT_LEVEL_DIRECTIVE,
    description: 'The level whose context and database this field needs.',
    locations: [DirectiveLocation.OBJECT, DirectiveLocation.FIELD_DEFINITION],
    args: { level: { type: new GraphQLNonNull(levelEnum) } },
  });
  const config = schema.toConfig();
  return new GraphQLSchema({ ...config, directives: [...config.directives, directive] });
}

/** The schema transformer: wraps each field that has a level (own or its type's). */
export function applyTenantLevelDirective(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const type = schema.getType(typeName)!;
      const own = getDirective(schema, fieldConfig, TENANT_LEVEL_DIRECTIVE)?.[0]?.level as DataLevel | undefined;
      const inherited = getDirective(schema, type, TENANT_LEVEL_DIRECTIVE)?.[0]?.level as DataLevel | undefined;
      const level = own ?? inherited;
      if (!level) return fieldConfig;
      const resolve: GraphQLFieldResolver<unknown, RequestContext> = fieldConfig.resolve ?? defaultFieldResolver;
      const where = `${typeName}.${fieldName}`;
      return {
        ...fieldConfig,
        extensions: { ...fieldConfig.extensions, tenantLevel: level },
        resolve(source, args, context: RequestContext, info) {
          if (!SERVES[level].has(context.scope.level)) {
            throw new AppError(ErrorCode.TENANT_CONTEXT_REQUIRED, `${where} needs a ${level} context; this request has a ${context.scope.level} context`, {
              details: { requiredLevel: level, contextLevel: context.scope.level },
            });
          }
          return resolve(source, args, context, info);
        },
      };
    },
  });
}

/** Resolver parameter: the database handle of the field's @tenantLevel. */
export function LevelDb() {
  return createParameterDecorator<RequestContext>(({ context, info }) => {
    const level = info.parentType.getFields()[info.fieldName]?.extensions.tenantLevel as DataLevel | undefined;
    if (!level) throw new Error(`${info.parentType.name}.${info.fieldName} uses @LevelDb() without a @tenantLevel`);
    return context.db.forLevel(level);
  });
}
