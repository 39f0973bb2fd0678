import { type TenantChain } from '../identification/identification-types.js';
import { type TenantDirectory } from '../identification/tenant-directory.js';
import { type DbServers } from './db-servers.js';

/**
 * The directory, with one guarantee added: a TENANT chain it returns has its database server
 * loaded, so routing (`connectionTarget`, synchronous on the request path) finds it. A map lookup
 * per call once the server is known. Everything else (e.g. `stats()`) is the directory's own.
 */
export function withServersLoaded<D extends TenantDirectory>(directory: D, servers: Pick<DbServers, 'ensure' | 'isLoaded'>): D {
  const loaded = async (chain: TenantChain | undefined): Promise<TenantChain | undefined> => {
    if (chain?.level === 'TENANT' && !servers.isLoaded(chain.tenant.dbServerId)) await servers.ensure(chain.tenant.dbServerId);
    return chain;
  };
  const findById = directory.findById.bind(directory);
  const findBySlug = directory.findBySlug.bind(directory);
  const findByDomain = directory.findByDomain.bind(directory);
  return new Proxy(directory, {
    get(target, property, receiver) {
      if (property === 'findById') return async (id: string) => loaded(await findById(id));
      if (property === 'findBySlug') return async (slug: string) => loaded(await findBySlug(slug));
      if (property === 'findByDomain') return async (domain: string) => loaded(await findByDomain(domain));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
