import { type Bootstrapper } from './bootstrapper.js';
import { TenantDatabases, type DatabaseRouting } from './tenant-databases.js';

/** The scope's database handles; leases go back to the registry when the scope ends. */
export function databaseBootstrapper(routing: DatabaseRouting): Bootstrapper<TenantDatabases> {
  return {
    enter: (info) => new TenantDatabases(routing, info.scope),
    release: (databases) => databases.release(),
  };
}
