/**
 * The tenant directory: tenant chains by id, slug and domain, cached in one wrapper.
 *
 * Layers, cheapest first: a bounded in-process LRU (a hit costs no I/O at all), then Redis (shared
 * by every process), then PostgreSQL (PgTenantSource). Unknown lookups are cached too, briefly, so
 * a flood of unknown hosts does not reach the database.
 *
 * Invalidation: `invalidate()` bumps a global generation (`INCR tg:dir:gen`, which retires every
 * Redis entry at once, O(1)) and publishes it on `tg:dir:invalidate`; every process subscribes on
 * its own connection and, on a message, clears its LRU and adopts the new generation. Call it
 * after the transaction that changed a tenant or a domain has committed.
 */
import type pg from 'pg';
import { LRUCache } from 'lru-cache';
import { type Config } from '../../config.js';
import { closeRedis, duplicateRedis, type RedisClient } from '../../infra/redis.js';
import { type Logger } from '../../infra/logger.js';
import { type TenantChain } from './identification-types.js';
import { isPlausibleLookup, PgTenantSource, tenantChainSchema, type TenantLookup, type TenantSource } from './tenant-records.js';

/** What identifiers need from the directory. Tests may fake it. */
export interface TenantDirectory {
  /** By tenant id (any level). Deleted and inactive tenants are returned: the caller decides. */
  findById(id: string): Promise<TenantChain | undefined>;
  /** By slug (`tenants.slug`). */
  findBySlug(slug: string): Promise<TenantChain | undefined>;
  /** By exact domain (`domains.domain`), lower-case. */
  findByDomain(domain: string): Promise<TenantChain | undefined>;
  /** Forgets every cached lookup in every process. `tenantId` names the change for the logs. */
  invalidate(tenantId?: string): Promise<void>;
  /** Releases what the directory opened (its Redis subscriber connection). */
  close(): Promise<void>;
}

export const DIRECTORY_GENERATION_KEY = 'tg:dir:gen';
export const DIRECTORY_INVALIDATE_CHANNEL = 'tg:dir:invalidate';
export const directoryRedisKey = (generation: number, lookup: TenantLookup) => `tg:dir:${generation}:${lookup.by}:${lookup.value}`;

export type TenantDirectoryOptions = {
  source: TenantSource;
  logger: Logger;
  /** Most lookups kept in the LRU. Default TENANT_CACHE_MAX = 10000. */
  cacheMax: number;
  /** How long a found tenant stays cached (LRU and Redis). Default TENANT_CACHE_TTL_MS = 30000. */
  cacheTtlMs: number;
  /** How long an unknown lookup stays cached. Default min(cacheTtlMs, 5000). */
  missTtlMs?: number;
  /** Shared cache and invalidation across processes; without it the cache is in-process only. */
  redis?: RedisClient | undefined;
  /** Quit `redis` on close() too (the subscriber connection made here is always quit). Default false. */
  ownsRedis?: boolean;
};

export type TenantDirectoryStats = {
  lruHits: number;
  redisHits: number;
  sourceLoads: number;
  invalidations: number;
  generation: number;
};

/** A cached value; `chain: null` caches "no such tenant". */
type Entry = { chain: TenantChain | null };

/**
 * Opens the cached directory over the central pool, subscribing to invalidations when Redis is given.
 * @param options.redis the process's command connection; a subscriber connection is duplicated from it
 */
export async function createTenantDirectory(options: {
  pool: Pick<pg.Pool, 'query'>;
  config: { tenancy: Pick<Config['tenancy'], 'cacheMax' | 'cacheTtlMs'> };
  logger: Logger;
  redis?: RedisClient | undefined;
  ownsRedis?: boolean;
  missTtlMs?: number;
}): Promise<CachedTenantDirectory> {
  const directory = new CachedTenantDirectory({
    source: new PgTenantSource(options.pool),
    logger: options.logger,
    cacheMax: options.config.tenancy.cacheMax,
    cacheTtlMs: options.config.tenancy.cacheTtlMs,
    missTtlMs: options.missTtlMs,
    redis: options.redis,
    ownsRedis: options.ownsRedis,
  });
  await directory.start();
  return directory;
}

export class CachedTenantDirectory implements TenantDirectory {
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly missTtlMs: number;
  private readonly logger: Logger;
  private subscriber: RedisClient | undefined;
  private generation = 0;
  /** Bumped on every local clear; a lookup that started before a clear does not store its result. */
  private epoch = 0;
  private generationRequest = 0;
  private closed = false;
  private readonly counters = { lruHits: 0, redisHits: 0, sourceLoads: 0, invalidations: 0 };

  constructor(private readonly options: TenantDirectoryOptions) {
    this.logger = options.logger.child({ component: 'tenant-directory' });
    this.missTtlMs = options.missTtlMs ?? Math.min(options.cacheTtlMs, 5_000);
    this.lru = new LRUCache<string, Entry>({ max: options.cacheMax, ttl: options.cacheTtlMs });
  }

  /** Reads the current generation and subscribes to invalidations (no-op without Redis). */
  async start(): Promise<void> {
    const redis = this.options.redis;
    if (!redis || this.subscriber) return;
    const subscriber = duplicateRedis(redis, this.options.logger, 'tenantgraph:directory-subscriber');
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === DIRECTORY_INVALIDATE_CHANNEL) this.onInvalidationMessage(message);
    });
    // After a reconnect, messages sent while we were away are lost: forget everything, re-read.
    let firstReady = true;
    subscriber.on('ready', () => {
      if (firstReady) return void (firstReady = false);
      this.clearLocal();
      void this.refreshGeneration();
    });
    try {
      await subscriber.subscribe(DIRECTORY_INVALIDATE_CHANNEL);
    } catch (error) {
      this.subscriber = undefined;
      subscriber.disconnect();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot use Redis for the tenant directory: ${reason}. Check REDIS_URL and that Redis is running, or unset REDIS_URL to cache in-process only.`, {
        cause: error,
      });
    }
    await this.refreshGeneration();
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

  async find(lookup: TenantLookup): Promise<TenantChain | undefined> {
    // Garbage (a Host header full of junk) matches nothing and is not worth a cache slot or a Redis key.
    if (!isPlausibleLookup(lookup)) return undefined;
    const cacheKey = `${lookup.by}:${lookup.value}`;
    const cached = this.lru.get(cacheKey);
    if (cached) {
      this.counters.lruHits++;
      return cached.chain ?? undefined;
    }
    let pending = this.inflight.get(cacheKey);
    if (!pending) {
      pending = this.load(lookup, cacheKey).finally(() => {
        if (this.inflight.get(cacheKey) === pending) this.inflight.delete(cacheKey);
      });
      this.inflight.set(cacheKey, pending);
    }
    return (await pending).chain ?? undefined;
  }

  async invalidate(tenantId?: string): Promise<void> {
    this.counters.invalidations++;
    this.clearLocal();
    const redis = this.options.redis;
    if (!redis) return;
    try {
      const generation = await redis.incr(DIRECTORY_GENERATION_KEY);
      this.adoptGeneration(generation);
      await redis.publish(DIRECTORY_INVALIDATE_CHANNEL, String(generation));
      this.logger.debug({ tenantId, generation }, 'tenant directory invalidated');
    } catch (error) {
      // The change is committed; failing the caller would not undo it. Other processes see it
      // when their entries expire (TENANT_CACHE_TTL_MS).
      this.logger.error({ err: error, tenantId }, 'could not publish a tenant directory invalidation; other processes may serve the old tenant until their cache expires');
    }
  }

  stats(): TenantDirectoryStats {
    return { ...this.counters, generation: this.generation };
  }

  /** Quits the subscriber connection (and `redis` when `ownsRedis`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearLocal();
    if (this.subscriber) await closeRedis(this.subscriber);
    if (this.options.ownsRedis && this.options.redis) await closeRedis(this.options.redis);
  }

  private async load(lookup: TenantLookup, cacheKey: string): Promise<Entry> {
    const epoch = this.epoch;
    const generation = this.generation;
    const fromRedis = await this.readRedis(generation, lookup);
    if (fromRedis) {
      this.counters.redisHits++;
      if (epoch === this.epoch) this.lru.set(cacheKey, fromRedis, { ttl: fromRedis.chain ? this.options.cacheTtlMs : this.missTtlMs });
      return fromRedis;
    }
    this.counters.sourceLoads++;
    const entry: Entry = { chain: (await this.options.source.find(lookup)) ?? null };
    if (epoch === this.epoch) {
      const ttl = entry.chain ? this.options.cacheTtlMs : this.missTtlMs;
      this.lru.set(cacheKey, entry, { ttl });
      await this.writeRedis(generation, lookup, entry, ttl);
    }
    return entry;
  }

  private usableRedis(): RedisClient | undefined {
    const redis = this.options.redis;
    // Not connected: go straight to PostgreSQL instead of queueing behind reconnects.
    return redis && redis.status === 'ready' ? redis : undefined;
  }

  private async readRedis(generation: number, lookup: TenantLookup): Promise<Entry | undefined> {
    const redis = this.usableRedis();
    if (!redis) return undefined;
    let raw: string | null;
    try {
      raw = await redis.get(directoryRedisKey(generation, lookup));
    } catch (error) {
      this.logger.warn({ err: error }, 'tenant directory: Redis read failed; reading PostgreSQL');
      return undefined;
    }
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(raw) as { chain?: unknown };
      if (parsed.chain === null) return { chain: null };
      return { chain: tenantChainSchema.parse(parsed.chain) };
    } catch (error) {
      // Written by another version, or corrupted: PostgreSQL is the truth.
      this.logger.warn({ err: error }, 'tenant directory: unreadable Redis entry ignored');
      return undefined;
    }
  }

  private async writeRedis(generation: number, lookup: TenantLookup, entry: Entry, ttlMs: number): Promise<void> {
    const redis = this.usableRedis();
    if (!redis) return;
    try {
      await redis.set(directoryRedisKey(generation, lookup), JSON.stringify(entry), 'PX', ttlMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'tenant directory: Redis write failed');
    }
  }

  private onInvalidationMessage(message: string): void {
    this.clearLocal();
    const generation = Number(message);
    if (Number.isSafeInteger(generation)) this.adoptGeneration(generation);
    // Messages from two concurrent invalidations may arrive out of order; the key is the truth.
    void this.refreshGeneration();
  }

  private async refreshGeneration(): Promise<void> {
    const redis = this.options.redis;
    if (!redis || this.closed) return;
    const request = ++this.generationRequest;
    try {
      const raw = await redis.get(DIRECTORY_GENERATION_KEY);
      if (request !== this.generationRequest) return; // a newer refresh is on its way
      this.adoptGeneration(raw === null ? 0 : Number(raw));
    } catch (error) {
      this.logger.warn({ err: error }, 'tenant directory: could not read the cache generation');
    }
  }

  private adoptGeneration(generation: number): void {
    if (!Number.isSafeInteger(generation) || generation === this.generation) return;
    this.generation = generation;
    this.clearLocal();
  }

  private clearLocal(): void {
    this.epoch++;
    this.lru.clear();
    this.inflight.clear();
  }
}
