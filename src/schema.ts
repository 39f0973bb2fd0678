import 'reflect-metadata';
import { type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { applyTenantLevelDirective, withTenantLevelDirective } from './directives/tenant-level.directive.js';
import { applyPermissions } from './permissions/apply-permissions.js';
import { permissions, ruleTree } from './permissions/permissions.js';
import { AdministrationResolver } from './resolvers/administration/administration.resolver.js';
import { MemberResolver } from './resolvers/account/member.resolver.js';
import { AuditResolver } from './resolvers/audit/audit.resolver.js';
import { AuthResolver } from './resolvers/auth/auth.resolver.js';
import { CatalogResolver } from './resolvers/catalog/catalog.resolver.js';
import { JobResolver } from './resolvers/job/job.resolver.js';
import { InvoiceLineResolver, InvoiceResolver } from './resolvers/invoice/invoice.resolver.js';
import { ClusterSchemaResolver } from './resolvers/cluster/cluster-schema.resolver.js';
import { MigrationRunItemResolver, MigrationRunResolver } from './resolvers/migration/migration-run.resolver.js';
import { HomepageResolver } from './resolvers/homepage/homepage.resolver.js';
import { PatientResolver } from './resolvers/patient/patient.resolver.js';
import { PractitionerResolver } from './resolvers/practitioner/practitioner.resolver.js';
import { ServerInfoResolver } from './resolvers/server-info/server-info.resolver.js';
import { TenantLifecycleResolver } from './resolvers/tenant/tenant-lifecycle.resolver.js';
import { PlanResolver } from './resolvers/plan/plan.resolver.js';
import { TenantDomainResolver } from './resolvers/tenant/tenant-domain.resolver.js';
import { TenantResolver } from './resolvers/tenant/tenant.resolver.js';
import { VisitResolver } from './resolvers/visit/visit.resolver.js';
import './resolvers/common/tenant-level.enum.js';

/** The schema as clients see it (with the @tenantLevel directive), before permissions. */
export async function makeSchemaDefinition(): Promise<GraphQLSchema> {
  const built = await buildSchema({
    resolvers: [
      ServerInfoResolver,
      TenantResolver,
      TenantLifecycleResolver,
      PlanResolver,
      TenantDomainResolver,
      AdministrationResolver,
      HomepageResolver,
      CatalogResolver,
      PractitionerResolver,
      PatientResolver,
      VisitResolver,
      InvoiceResolver,
      InvoiceLineResolver,
      MigrationRunResolver,
      ClusterSchemaResolver,
      MigrationRunItemResolver,
      AuthResolver,
      MemberResolver,
      AuditResolver,
      JobResolver,
    ],
    validate: false,
  });
  return applyTenantLevelDirective(withTenantLevelDirective(built));
}

/** The executable schema: resolvers, @tenantLevel transformer, then graphql-shield. */
export async function makeSchema(): Promise<GraphQLSchema> {
  return applyPermissions(await makeSchemaDefinition(), permissions, ruleTree);
}
