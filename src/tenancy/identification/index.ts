export * from './identification-types.js';
export { makeAccessTokenKeys, mintAccessToken, verifyAccessToken, type AccessTokenClaims, type AccessTokenKeys } from './access-tokens.js';
export { devJwtSecretPath, loadAccessTokenKeys, resolveJwtSecret } from './jwt-secret.js';
export {
  CachedTenantDirectory,
  DIRECTORY_FENCE_MS,
  createTenantDirectory,
  directoryEntryKey,
  directoryFenceKey,
  directoryIndexKey,
  type TenantDirectory,
  type TenantDirectoryOptions,
  type TenantDirectoryStats,
} from './tenant-directory.js';
export { PgTenantSource, type TenantLookup, type TenantSource } from './tenant-records.js';
export { isCentralHost, type CentralHosts, type IdentifierResult, type TenantIdentifier } from './tenant-identifier.js';
export { TokenIdentifier } from './token-identifier.js';
export { DomainIdentifier } from './domain-identifier.js';
export { SubdomainIdentifier } from './subdomain-identifier.js';
export { HeaderIdentifier } from './header-identifier.js';
export { assertTenantAvailable, authenticate, identifyRequest, makeIdentifiers, MAINTENANCE_RETRY_AFTER_SECONDS, type IdentifyDependencies } from './identify-request.js';
