import DataLoader from 'dataloader';
import { scopeLoader, type TenantContext } from '../../tenancy/bootstrappers/index.js';
import { byIds } from '../common/batch.js';
import { type AppClient } from '../../tenancy/level-clients.js';
import { type CatalogItem } from './catalog-item.type.js';

export function listCatalogItems(db: AppClient): Promise<CatalogItem[]> {
  return db.catalogItem.findMany({ where: { isActive: true }, orderBy: { code: 'asc' } });
}

/** Catalog items by id for this request (one query per batch, whatever the number of lines). */
export function catalogItemLoader(context: Pick<TenantContext, 'db' | 'loaders'>): DataLoader<string, CatalogItem | null> {
  return scopeLoader(context, 'app:catalogItemById', () =>
    new DataLoader<string, CatalogItem | null>(async (ids) => {
      return byIds(ids, await context.db.app().catalogItem.findMany({ where: { id: { in: [...ids] } } }));
    }),
  );
}
