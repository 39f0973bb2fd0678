import { Arg, Ctx, Directive, Mutation, Query, Resolver } from 'type-graphql';
import { type RequestContext } from '../../context/request-context.js';
import { tenantLevel } from '../../directives/tenant-level.directive.js';
import { AddDbServerInput, DbServer, KeyRotationReport } from './administration.type.js';

/** Installation-wide administration: database servers and the encryption keys. System admins only (permissions.ts). */
@Resolver()
export class AdministrationResolver {
  @Query(() => [DbServer], { description: 'Database servers tenants are placed on, by name.' })
  @Directive(tenantLevel('CENTRAL'))
  dbServers(@Ctx() context: RequestContext): Promise<DbServer[]> {
    return context.services.administration.listDbServers();
  }

  @Mutation(() => DbServer, { description: 'Registers a database server after connecting to it with the given admin role.' })
  @Directive(tenantLevel('CENTRAL'))
  addDbServer(@Arg('input', () => AddDbServerInput) input: AddDbServerInput, @Ctx() context: RequestContext): Promise<DbServer> {
    return context.services.administration.addDbServer(input);
  }

  @Mutation(() => KeyRotationReport, { description: 'Re-encrypts every stored secret under the newest key of TENANCY_ENCRYPTION_KEYS.' })
  @Directive(tenantLevel('CENTRAL'))
  async rotateEncryptionKeys(@Ctx() context: RequestContext): Promise<KeyRotationReport> {
    const report = await context.services.administration.rotateEncryptionKeys();
    return { ...report, failures: report.failures.map((failure) => ({ kind: failure.secret, rowId: failure.rowId, reason: failure.reason })) };
  }
}
