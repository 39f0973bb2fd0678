import { type Bootstrapper } from './bootstrapper.js';
import { scopeOwner } from './tenant-context.js';

/** A cache bound to one tenant: its keys can never name another tenant's entries. */
export interface TenantCache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  getOrSet<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  /** Forgets every entry of this tenant (O(1): bumps its generation). */
  flush(): Promise<void>;
}

/** Where tenant caches come from (src/infra/cache/). */
export type TenantCacheSource = { forTenant(tenantId: string): TenantCache };

/** The scope's cache, keyed by its tenant (or app, or group). */
export function cacheBootstrapper(source: TenantCacheSource): Bootstrapper<TenantCache> {
  return { enter: (info) => source.forTenant(scopeOwner(info, 'cache').id) };
}
