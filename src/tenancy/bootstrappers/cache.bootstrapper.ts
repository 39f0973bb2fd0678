import { type TenantCache, type TenantCacheStore } from '../../infra/cache/index.js';
import { type Bootstrapper } from './bootstrapper.js';
import { scopeOwner } from './tenant-context.js';

// One definition of the tenant cache port, next to its implementations.
export type { TenantCache };

/** Where tenant caches come from (src/infra/cache/). */
export type TenantCacheSource = Pick<TenantCacheStore, 'forTenant'>;

/** The scope's cache, keyed by its tenant (or app, or group). */
export function cacheBootstrapper(source: TenantCacheSource): Bootstrapper<TenantCache> {
  return { enter: (info) => source.forTenant(scopeOwner(info, 'cache').id) };
}
