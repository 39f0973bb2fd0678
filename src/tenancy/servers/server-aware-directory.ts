import { type TenantChain } from '../identification/identification-types.js';
import { type TenantDirectory } from '../identification/tenant-directory.js';
import { type DbServers } from './db-servers.js';

/**
 * The directory, with one guarantee added: a TENANT chain it returns has its database server
 * loaded, so routing (`connectionTarget`, synchronous on the request path) finds it. A map lookup
 * per call once the server is known.
 */
export function withServersLoaded(directory: TenantDirectory, servers: Pick<DbServers, 'ensure' | 'isLoaded'>): TenantDirectory {
  const loaded = async (chain: TenantChain | undefined): Promise<TenantChain | undefined> => {
    if (chain?.level === 'TENANT' && !servers.isLoaded(chain.tenant.dbServerId)) await servers.ensure(chain.tenant.dbServerId);
    return chain;
  };
  return {
    findById: async (id) => loaded(await directory.findById(id)),
    findBySlug: async (slug) => loaded(await directory.findBySlug(slug)),
    findByDomain: async (domain) => loaded(await directory.findByDomain(domain)),
    close: () => directory.close(),
  };
}
