/**
 * The tenant cache: Redis when the process has it (shared by every process), else in process.
 */
import { type Logger } from '../logger.js';
import { type RedisClient } from '../redis.js';
import { MemoryTenantCacheStore } from './memory-tenant-cache.js';
import { RedisTenantCacheStore } from './redis-tenant-cache.js';
import { type CacheFlushEvents, type TenantCacheStore } from './tenant-cache.js';

export function openTenantCacheStore(options: { redis: RedisClient | undefined; events: CacheFlushEvents; logger: Logger }): TenantCacheStore {
  return options.redis ? new RedisTenantCacheStore(options.redis, options.events, options.logger) : new MemoryTenantCacheStore({ events: options.events });
}

export { MemoryTenantCacheStore } from './memory-tenant-cache.js';
export { RedisTenantCacheStore } from './redis-tenant-cache.js';
export {
  DEFAULT_CACHE_TTL_MS,
  tenantCacheKey,
  tenantGenerationKey,
  type CacheFlushEvents,
  type CacheHealth,
  type TenantCache,
  type TenantCacheStore,
} from './tenant-cache.js';
