import DataLoader from 'dataloader';
import { requestLoader, type RequestContext } from '../../context/request-context.js';
import { byIds } from '../common/batch.js';
import { type AppClient } from '../../tenancy/level-clients.js';
import { type CatalogItem } from './catalog-item.type.js';

export function listCatalogItems(db: AppClient): Promise<CatalogItem[]> {
  return db.catalogItem.findMany({ where: { isActive: true }, orderBy: { code: 'asc' } });
}

/** Catalog items by id for this request (one query per batch, whatever the number of lines). */
export function catalogItemLoader(context: RequestContext): DataLoader<string, CatalogItem | null> {
  return requestLoader(context, 'app:catalogItemById', () =>
    new DataLoader<string, CatalogItem | null>(async (ids) => {
      return byIds(ids, await context.db.app().catalogItem.findMany({ where: { id: { in: [...ids] } } }));
    }),
  );
}
