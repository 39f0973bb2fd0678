/**
 * The tenant directory: tenant chains by id, slug and domain, cached in one wrapper.
 *
 * Layers, cheapest first: a bounded in-process LRU (a hit costs no I/O at all), then Redis (shared
 * by every process), then PostgreSQL (PgTenantSource). Unknown lookups are cached too, briefly and
 * in process only, so a flood of unknown hosts does not reach the database.
 *
 * Invalidation is per tenant, driven by tenancy events (src/tenancy/events/). A cached chain
 * holds its app, group and tenant, so a change to tenant X makes stale exactly the lookups whose
 * chain contains X: X's own (by id, slug, each domain) and those of its descendants (a group's
 * status is part of each of its clinics' chains). Both caches keep an index tenant id → lookups:
 *
 * - in process, a Map beside the LRU, kept in step by the LRU's dispose callback;
 * - in Redis, a set `tg:dir:t:<tenantId>` of entry keys. The process that publishes the event
 *   deletes the set's entries (one Lua script: O(X's lookups), no SCAN, no flush) before the event
 *   goes to other processes, which then drop their own LRU entries for X.
 *
 * A lookup that read PostgreSQL before the change and finishes after it must not cache its stale
 * answer: in process, a load does not store when a tenant of its chain was invalidated since it
 * started; in Redis, invalidation leaves a short fence `tg:dir:f:<tenantId>` during which no
 * entry containing X is written.
 */
import type pg from 'pg';
import { LRUCache } from 'lru-cache';
import { type Config } from '../../config.js';
import { type Logger } from '../../infra/logger.js';
import { OutageNotice } from '../../infra/outage-notice.js';
import { type RedisClient } from '../../infra/redis.js';
import { changesTenantIdentity, mayAddLookups, type TenancyEvents } from '../events/index.js';
import { chainRecords, type TenantChain } from './identification-types.js';
import { isPlausibleLookup, PgTenantSource, tenantChainSchema, type TenantLookup, type TenantSource } from './tenant-records.js';

/** What identifiers need from the directory. Tests may fake it. */
export interface TenantDirectory {
  /** By tenant id (any level). Deleted and inactive tenants are returned: the caller decides. */
  findById(id: string): Promise<TenantChain | undefined>;
  /** By slug (`tenants.slug`). */
  findBySlug(slug: string): Promise<TenantChain | undefined>;
  /** By exact domain (`domains.domain`), lower-case. */
  findByDomain(domain: string): Promise<TenantChain | undefined>;
  /** Stops listening to tenancy events. */
  close(): Promise<void>;
}

export const directoryEntryKey = (lookup: TenantLookup) => `tg:dir:e:${lookup.by}:${lookup.value}`;
export const directoryIndexKey = (tenantId: string) => `tg:dir:t:${tenantId}`;
export const directoryFenceKey = (tenantId: string) => `tg:dir:f:${tenantId}`;

/**
 * How long after an invalidation no Redis entry containing the tenant is written. A stale write
 * comes from a lookup whose query ran before the change committed and whose Redis write lands
 * after the invalidation: the fence must outlast one indexed query plus a Redis round trip
 * (milliseconds; waiting for a pool connection happens before the query's snapshot and does not
 * count). Meanwhile each process still caches the tenant in its LRU.
 */
export const DIRECTORY_FENCE_MS = 2_000;

/** KEYS: entry, then n fences, then n index sets. ARGV: value, ttl ms. Writes nothing while a fence stands. */
const WRITE_ENTRY = `
local n = (#KEYS - 1) / 2
for i = 2, 1 + n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2 + n, 1 + 2 * n do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

/** KEYS: index set, fence. ARGV: fence ms. Deletes every entry the set names, and the set. */
const FORGET_TENANT = `
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[1]))
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
redis.call('DEL', KEYS[1])
return #keys`;

export type TenantDirectoryOptions = {
  source: TenantSource;
  logger: Logger;
  /** Most lookups kept in the LRU. Default TENANT_CACHE_MAX = 10000. */
  cacheMax: number;
  /** How long a found tenant stays cached (LRU and Redis). Default TENANT_CACHE_TTL_MS = 30000. */
  cacheTtlMs: number;
  /** How long an unknown lookup stays cached (in process). Default min(cacheTtlMs, 5000). */
  missTtlMs?: number;
  /** Shared cache across processes; without it the cache is in-process only. */
  redis?: RedisClient | undefined;
  /** Where invalidations come from; without it, only `forgetTenant` invalidates. */
  events?: TenancyEvents | undefined;
};

export type TenantDirectoryStats = {
  lruHits: number;
  redisHits: number;
  sourceLoads: number;
  /** Tenants invalidated (one per identity-changing event, and per `forgetTenant`). */
  invalidations: number;
  /** Lookups dropped from the LRU by those invalidations. */
  droppedLookups: number;
  /** Found lookups in the LRU now. */
  cachedLookups: number;
};

/** A found chain, with the ids it contains (the index's keys). */
type Entry = { chain: TenantChain; tenantIds: readonly string[] };

/**
 * Opens the cached directory over the central pool, invalidated by `events` when given.
 * @param options.redis the process's command connection, shared with the rest of the process
 */
export async function createTenantDirectory(options: {
  pool: Pick<pg.Pool, 'query'>;
  config: { tenancy: Pick<Config['tenancy'], 'cacheMax' | 'cacheTtlMs'> & Partial<Pick<Config['tenancy'], 'requireVerifiedDomains'>> };
  logger: Logger;
  redis?: RedisClient | undefined;
  events?: TenancyEvents | undefined;
  missTtlMs?: number;
}): Promise<CachedTenantDirectory> {
  return new CachedTenantDirectory({
    source: new PgTenantSource(options.pool, { requireVerifiedDomains: options.config.tenancy.requireVerifiedDomains ?? false }),
    logger: options.logger,
    cacheMax: options.config.tenancy.cacheMax,
    cacheTtlMs: options.config.tenancy.cacheTtlMs,
    missTtlMs: options.missTtlMs,
    redis: options.redis,
    events: options.events,
  });
}

export class CachedTenantDirectory implements TenantDirectory {
  private readonly lru: LRUCache<string, Entry>;
  /** Unknown lookups; kept apart so that status changes (the common event) never touch them. */
  private readonly misses: LRUCache<string, true>;
  /** tenant id → LRU keys whose chain contains it. */
  private readonly byTenant = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<TenantChain | undefined>>();
  /** Invalidation counter; `invalidatedAt` holds the value at each tenant's last invalidation. */
  private sequence = 0;
  private readonly invalidatedAt: LRUCache<string, number>;
  /** Bumped on a full local clear (resync); a load started before it stores nothing. */
  private epoch = 0;
  /** Bumped when unknown lookups are forgotten; a miss found before it is not cached. */
  private missEpoch = 0;
  private loading = 0;
  private readonly missTtlMs: number;
  private readonly logger: Logger;
  private readonly redisOutage: OutageNotice;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly counters = { lruHits: 0, redisHits: 0, sourceLoads: 0, invalidations: 0, droppedLookups: 0 };

  constructor(private readonly options: TenantDirectoryOptions) {
    this.logger = options.logger.child({ component: 'tenant-directory' });
    this.redisOutage = new OutageNotice(this.logger, 'tenant directory', 'reads PostgreSQL and cannot drop shared entries');
    this.missTtlMs = options.missTtlMs ?? Math.min(options.cacheTtlMs, 5_000);
    this.lru = new LRUCache<string, Entry>({
      max: options.cacheMax,
      ttl: options.cacheTtlMs,
      dispose: (entry, key) => this.unindex(key, entry),
    });
    this.misses = new LRUCache<string, true>({ max: options.cacheMax, ttl: this.missTtlMs });
    // Only loads in flight read it; an entry older than any load is useless.
    this.invalidatedAt = new LRUCache<string, number>({ max: 100_000, ttl: 60_000 });
    const events = options.events;
    if (events) {
      this.unsubscribe.push(
        events.on('*', async (event, origin) => {
          if (!changesTenantIdentity(event)) return;
          // The publisher cleans Redis (once, before other processes hear of it); everyone cleans its LRU.
          if (origin === 'local') await this.forgetTenant(event.tenantId, { lookupsAdded: mayAddLookups(event) });
          else this.forgetLocally(event.tenantId, { lookupsAdded: mayAddLookups(event) });
        }),
        events.onResync(() => this.clearLocal()),
      );
    }
  }

  findById(id: string): Promise<TenantChain | undefined> {
    return this.find({ by: 'id', value: id.toLowerCase() });
  }

  findBySlug(slug: string): Promise<TenantChain | undefined> {
    return this.find({ by: 'slug', value: slug });
  }

  findByDomain(domain: string): Promise<TenantChain | undefined> {
    return this.find({ by: 'domain', value: domain.toLowerCase() });
  }

  find(lookup: TenantLookup): Promise<TenantChain | undefined> {
    // Garbage (a Host header full of junk) matches nothing and is not worth a cache slot or a Redis key.
    if (!isPlausibleLookup(lookup)) return Promise.resolve(undefined);
    const cacheKey = `${lookup.by}:${lookup.value}`;
    const cached = this.lru.get(cacheKey);
    if (cached) {
      this.counters.lruHits++;
      return Promise.resolve(cached.chain);
    }
    if (this.misses.has(cacheKey)) {
      this.counters.lruHits++;
      return Promise.resolve(undefined);
    }
    let pending = this.inflight.get(cacheKey);
    if (!pending) {
      pending = this.load(lookup, cacheKey).finally(() => {
        if (this.inflight.get(cacheKey) === pending) this.inflight.delete(cacheKey);
      });
      this.inflight.set(cacheKey, pending);
    }
    return pending;
  }

  /**
   * Forgets tenant X's lookups and every chain containing X, here and in Redis. Other processes
   * learn of it through the event that made this process call it.
   * @param options.lookupsAdded X may have a new slug or domain: forget unknown lookups too
   */
  async forgetTenant(tenantId: string, options: { lookupsAdded: boolean }): Promise<void> {
    this.forgetLocally(tenantId, options);
    const redis = this.usableRedis();
    if (!redis) return;
    try {
      await redis.eval(FORGET_TENANT, 2, directoryIndexKey(tenantId), directoryFenceKey(tenantId), DIRECTORY_FENCE_MS);
      this.redisOutage.recovered();
    } catch (error) {
      // The change is committed; failing the caller would not undo it. Redis entries expire (TENANT_CACHE_TTL_MS).
      this.redisOutage.failed(error);
    }
  }

  stats(): TenantDirectoryStats {
    return { ...this.counters, cachedLookups: this.lru.size };
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.clearLocal();
  }

  private forgetLocally(tenantId: string, options: { lookupsAdded: boolean }): void {
    this.counters.invalidations++;
    this.invalidatedAt.set(tenantId, ++this.sequence);
    // A lookup in flight may be about X: later callers start their own instead of joining it.
    this.inflight.clear();
    if (options.lookupsAdded) {
      this.missEpoch++;
      this.misses.clear();
    }
    const keys = this.byTenant.get(tenantId);
    if (!keys) return;
    const dropped = [...keys];
    for (const key of dropped) this.lru.delete(key); // dispose() unindexes
    this.counters.droppedLookups += dropped.length;
    this.byTenant.delete(tenantId);
  }

  private async load(lookup: TenantLookup, cacheKey: string): Promise<TenantChain | undefined> {
    const started = { epoch: this.epoch, sequence: this.sequence, missEpoch: this.missEpoch };
    this.loading++;
    try {
      const fromRedis = await this.readRedis(lookup);
      if (fromRedis) {
        this.counters.redisHits++;
        this.store(cacheKey, fromRedis, started);
        return fromRedis;
      }
      this.counters.sourceLoads++;
      const chain = await this.options.source.find(lookup);
      if (!chain) {
        if (started.epoch === this.epoch && started.missEpoch === this.missEpoch) this.misses.set(cacheKey, true);
        return undefined;
      }
      if (this.store(cacheKey, chain, started)) await this.writeRedis(lookup, chain);
      return chain;
    } finally {
      // No load in flight: nothing can need the invalidation history.
      if (--this.loading === 0) this.invalidatedAt.clear();
    }
  }

  /** Caches a loaded chain unless one of its tenants was invalidated while it loaded. */
  private store(cacheKey: string, chain: TenantChain, started: { epoch: number; sequence: number }): boolean {
    if (started.epoch !== this.epoch) return false;
    const tenantIds = chainRecords(chain).map((record) => record.id);
    if (tenantIds.some((id) => (this.invalidatedAt.get(id) ?? 0) > started.sequence)) return false;
    this.lru.set(cacheKey, { chain, tenantIds });
    for (const id of tenantIds) {
      let keys = this.byTenant.get(id);
      if (!keys) this.byTenant.set(id, (keys = new Set()));
      keys.add(cacheKey);
    }
    return true;
  }

  private unindex(cacheKey: string, entry: Entry): void {
    for (const id of entry.tenantIds) {
      const keys = this.byTenant.get(id);
      if (!keys) continue;
      keys.delete(cacheKey);
      if (keys.size === 0) this.byTenant.delete(id);
    }
  }

  private usableRedis(): RedisClient | undefined {
    const redis = this.options.redis;
    // Not connected: go straight to PostgreSQL instead of queueing behind reconnects.
    return redis && redis.status === 'ready' ? redis : undefined;
  }

  private async readRedis(lookup: TenantLookup): Promise<TenantChain | undefined> {
    const redis = this.usableRedis();
    if (!redis) return undefined;
    let raw: string | null;
    try {
      raw = await redis.get(directoryEntryKey(lookup));
      this.redisOutage.recovered();
    } catch (error) {
      this.redisOutage.failed(error);
      return undefined;
    }
    if (raw === null) return undefined;
    try {
      return tenantChainSchema.parse((JSON.parse(raw) as { chain?: unknown }).chain);
    } catch (error) {
      // Written by another version, or corrupted: PostgreSQL is the truth.
      this.logger.warn({ err: error }, 'tenant directory: unreadable Redis entry ignored');
      return undefined;
    }
  }

  private async writeRedis(lookup: TenantLookup, chain: TenantChain): Promise<void> {
    const redis = this.usableRedis();
    if (!redis) return;
    const ids = chainRecords(chain).map((record) => record.id);
    const keys = [directoryEntryKey(lookup), ...ids.map(directoryFenceKey), ...ids.map(directoryIndexKey)];
    try {
      await redis.eval(WRITE_ENTRY, keys.length, ...keys, JSON.stringify({ chain }), this.options.cacheTtlMs);
      this.redisOutage.recovered();
    } catch (error) {
      this.redisOutage.failed(error);
    }
  }

  private clearLocal(): void {
    this.epoch++;
    this.lru.clear();
    this.byTenant.clear();
    this.misses.clear();
    this.inflight.clear();
  }
}
