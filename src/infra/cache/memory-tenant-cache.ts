/**
 * The tenant cache in process memory, for a single process without Redis (development, tests,
 * one-box installs). Same key layout and semantics as the Redis store; values are kept as JSON
 * text, so a caller never shares a mutable object with another request or tenant.
 */
import { LRUCache } from 'lru-cache';
import {
  assertTenantId,
  TenantCacheView,
  type CacheFlushEvents,
  type CacheHealth,
  type TenantCache,
  type TenantCacheBackend,
  type TenantCacheStore,
} from './tenant-cache.js';

export type MemoryTenantCacheOptions = {
  events: CacheFlushEvents;
  /** Most entries kept (least recently used go first). Default 100000. */
  maxEntries?: number;
  /** Most characters of JSON kept, all tenants together. Default 64 Mi. */
  maxChars?: number;
};

export class MemoryTenantCacheStore implements TenantCacheStore {
  private readonly entries: LRUCache<string, string>;
  /** Tenants flushed at least once; the others are at generation 0. */
  private readonly generations = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Raw access by full key stays private: callers only get views bound to one tenant. */
  private readonly backend: TenantCacheBackend = {
    generation: async (tenantId) => this.generations.get(tenantId) ?? 0,
    get: async (fullKey) => this.entries.get(fullKey),
    set: async (fullKey, json, ttlMs) => void this.entries.set(fullKey, json, { ttl: ttlMs }),
    del: async (fullKey) => void this.entries.delete(fullKey),
    flushTenant: (tenantId) => this.flushTenant(tenantId),
  };

  constructor(private readonly options: MemoryTenantCacheOptions) {
    this.entries = new LRUCache<string, string>({
      max: options.maxEntries ?? 100_000,
      maxSize: options.maxChars ?? 64 * 1024 * 1024,
      sizeCalculation: (value, key) => value.length + key.length,
    });
  }

  forTenant(tenantId: string): TenantCache {
    assertTenantId(tenantId);
    return new TenantCacheView(this.backend, tenantId, this.inflight);
  }

  async flushTenant(tenantId: string): Promise<void> {
    assertTenantId(tenantId);
    // The old generation's entries are unreachable now; the LRU lets them go.
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    await this.options.events.publish({ type: 'TenantCacheFlushed', tenantId });
  }

  health(): CacheHealth {
    return { status: 'ok' };
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.generations.clear();
  }
}
