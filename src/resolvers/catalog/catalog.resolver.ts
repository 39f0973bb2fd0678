import { Directive, Query, Resolver } from 'type-graphql';
import { LevelDb, tenantLevel } from '../../directives/tenant-level.directive.js';
import { type AppClient } from '../../tenancy/level-clients.js';
import { CatalogItem } from './catalog-item.type.js';
import { listCatalogItems } from './catalog.service.js';

@Resolver(() => CatalogItem)
export class CatalogResolver {
  @Query(() => [CatalogItem], { description: "The app's active catalog items." })
  @Directive(tenantLevel('APP'))
  catalogItems(@LevelDb() db: AppClient): Promise<CatalogItem[]> {
    return listCatalogItems(db);
  }
}
