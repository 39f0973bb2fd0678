import { type TenantFiles, type TenantFileStore } from '../../infra/storage/tenant-files.js';
import { type Bootstrapper } from './bootstrapper.js';
import { scopeOwner } from './tenant-context.js';

/** The scope's files under `storage/tenants/<tenantId>/`. */
export function filesBootstrapper(store: TenantFileStore): Bootstrapper<TenantFiles> {
  return { enter: (info) => store.forTenant(scopeOwner(info, 'file storage').id) };
}
