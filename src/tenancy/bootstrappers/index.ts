export { type Bootstrapper, type ClientInfo, type ScopeInfo } from './bootstrapper.js';
export { cacheBootstrapper, type TenantCache, type TenantCacheSource } from './cache.bootstrapper.js';
export { databaseBootstrapper } from './database.bootstrapper.js';
export { filesBootstrapper } from './files.bootstrapper.js';
export { loggerBootstrapper } from './logger.bootstrapper.js';
export { currentScopeId, currentTenantContext, runInScopeState, type ScopeState } from './scope-storage.js';
export { TenantDatabases, type DatabaseRouting } from './tenant-databases.js';
export {
  EnteredScope,
  scopeLoader,
  scopeOwner,
  type Readiness,
  type ScopeServices,
  type TenantBootstrappers,
  type TenantContext,
  type TenantHandles,
} from './tenant-context.js';
export { makeTenantScopes, type RunOptions, type TenantScopes, type TenantTarget } from './tenant-scopes.js';
