import { Directive, Query, Resolver } from 'type-graphql';
import { LevelDb, tenantLevel } from '../../directives/tenant-level.directive.js';
import { type GroupClient } from '../../tenancy/level-clients.js';
import { Practitioner } from './practitioner.type.js';
import { listPractitioners } from './practitioner.service.js';

@Resolver(() => Practitioner)
export class PractitionerResolver {
  @Query(() => [Practitioner], { description: "The group's practitioners." })
  @Directive(tenantLevel('CENTRAL_TENANT'))
  practitioners(@LevelDb() db: GroupClient): Promise<Practitioner[]> {
    return listPractitioners(db);
  }
}
