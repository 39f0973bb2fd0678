import DataLoader from 'dataloader';
import { scopeLoader, type TenantContext } from '../../tenancy/bootstrappers/index.js';
import { byIds } from '../common/batch.js';
import { type GroupClient } from '../../tenancy/level-clients.js';
import { type Practitioner } from './practitioner.type.js';

export function listPractitioners(db: GroupClient): Promise<Practitioner[]> {
  return db.practitioner.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }] });
}

export function practitionerLoader(context: Pick<TenantContext, 'db' | 'loaders'>): DataLoader<string, Practitioner | null> {
  return scopeLoader(context, 'group:practitionerById', () =>
    new DataLoader<string, Practitioner | null>(async (ids) => {
      return byIds(ids, await context.db.group().practitioner.findMany({ where: { id: { in: [...ids] } } }));
    }),
  );
}
