/**
 * The tenant cache in Redis, shared by every process.
 *
 * Each tenant's generation lives in Redis (`tg:<tenantId>:gen`, absent = 0) and is cached in
 * process for a minute. `flushTenant` INCRs it and publishes `TenantCacheFlushed`, on which every
 * other process drops the generation it holds and reads the new one on next use.
 *
 * Redis is optional at run time: while the connection is not ready, reads miss, writes are
 * dropped (callers load from the database), the outage is logged once, and `health()` says
 * degraded. Flushes asked for meanwhile are remembered and applied when Redis is back; until
 * then those tenants miss. When the connection is ready again, everything works as before.
 */
import { LRUCache } from 'lru-cache';
import { type Logger } from '../logger.js';
import { OutageNotice } from '../outage-notice.js';
import { type RedisClient } from '../redis.js';
import {
  assertTenantId,
  tenantGenerationKey,
  TenantCacheView,
  type CacheFlushEvents,
  type CacheHealth,
  type TenantCache,
  type TenantCacheBackend,
  type TenantCacheStore,
} from './tenant-cache.js';

/** How long a generation read from Redis is trusted without hearing of a flush (a missed event heals after this). */
const GENERATION_TTL_MS = 60_000;

export class RedisTenantCacheStore implements TenantCacheStore {
  private readonly generations = new LRUCache<string, number>({ max: 100_000, ttl: GENERATION_TTL_MS });
  private readonly generationLoads = new Map<string, Promise<number | undefined>>();
  /** Bumped whenever a generation may have moved; a read started before it is not cached. */
  private flushes = 0;
  /** Tenants flushed while Redis was away: they miss until their INCR is done. */
  private readonly pendingFlushes = new Set<string>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly outage: OutageNotice;
  private readonly cleanups: (() => void)[] = [];
  private closed = false;

  private readonly backend: TenantCacheBackend = {
    generation: (tenantId) => this.generation(tenantId),
    get: (fullKey) => this.command(async (redis) => (await redis.get(fullKey)) ?? undefined),
    set: async (fullKey, json, ttlMs) => void (await this.command((redis) => redis.set(fullKey, json, 'PX', ttlMs))),
    del: async (fullKey) => void (await this.command((redis) => redis.del(fullKey))),
    flushTenant: (tenantId) => this.flushTenant(tenantId),
  };

  constructor(
    private readonly redis: RedisClient,
    private readonly events: CacheFlushEvents,
    logger: Logger,
  ) {
    this.outage = new OutageNotice(logger.child({ component: 'tenant-cache' }), 'tenant cache', 'reads miss and writes are dropped');
    const onReady = () => void this.reconnected();
    const onClose = () => {
      if (!this.closed) this.outage.failed(new Error('Redis connection closed'));
    };
    redis.on('ready', onReady);
    redis.on('close', onClose);
    this.cleanups.push(
      () => redis.off('ready', onReady),
      () => redis.off('close', onClose),
      events.on('TenantCacheFlushed', (event, origin) => {
        if (origin === 'remote') this.forgetGeneration(event.tenantId);
      }),
      // Flush events may have been missed while the subscriber was away.
      events.onResync(() => this.forgetAllGenerations()),
    );
  }

  forTenant(tenantId: string): TenantCache {
    assertTenantId(tenantId);
    return new TenantCacheView(this.backend, tenantId, this.inflight);
  }

  async flushTenant(tenantId: string): Promise<void> {
    assertTenantId(tenantId);
    this.forgetGeneration(tenantId);
    const generation = await this.command((redis) => redis.incr(tenantGenerationKey(tenantId)));
    if (generation === undefined) {
      this.pendingFlushes.add(tenantId);
      return;
    }
    this.generations.set(tenantId, generation);
    await this.events.publish({ type: 'TenantCacheFlushed', tenantId });
  }

  health(): CacheHealth {
    if (this.redis.status !== 'ready') return { status: 'degraded', reason: `Redis connection is ${this.redis.status}; the tenant cache misses until it returns` };
    const down = this.outage.down;
    return down === undefined ? { status: 'ok' } : { status: 'degraded', reason: `tenant cache: ${down}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.forgetAllGenerations();
  }

  private async generation(tenantId: string): Promise<number | undefined> {
    if (this.pendingFlushes.has(tenantId)) return undefined;
    const cached = this.generations.get(tenantId);
    if (cached !== undefined) return cached;
    let pending = this.generationLoads.get(tenantId);
    if (!pending) {
      const flushes = this.flushes;
      pending = this.command((redis) => redis.get(tenantGenerationKey(tenantId))).then((raw) => {
        if (raw === undefined) return undefined; // Redis unavailable
        const generation = raw === null ? 0 : Number(raw);
        if (!Number.isSafeInteger(generation)) return undefined;
        if (flushes === this.flushes) this.generations.set(tenantId, generation);
        return generation;
      });
      const loading = pending.finally(() => {
        if (this.generationLoads.get(tenantId) === loading) this.generationLoads.delete(tenantId);
      });
      this.generationLoads.set(tenantId, loading);
      pending = loading;
    }
    return pending;
  }

  /**
   * Runs a command when the connection is ready; otherwise (or when it fails) notes the outage
   * and answers undefined at once rather than queueing behind reconnects.
   */
  private async command<T>(run: (redis: RedisClient) => Promise<T>): Promise<T | undefined> {
    if (this.redis.status !== 'ready') {
      this.outage.failed(new Error(`Redis connection is ${this.redis.status}`));
      return undefined;
    }
    try {
      const result = await run(this.redis);
      this.outage.recovered();
      return result;
    } catch (error) {
      this.outage.failed(error);
      return undefined;
    }
  }

  private forgetGeneration(tenantId: string): void {
    this.flushes++;
    this.generations.delete(tenantId);
    this.generationLoads.delete(tenantId);
  }

  private forgetAllGenerations(): void {
    this.flushes++;
    this.generations.clear();
    this.generationLoads.clear();
  }

  /** Redis is back: trust nothing cached from before, then apply the flushes asked for meanwhile. */
  private async reconnected(): Promise<void> {
    this.forgetAllGenerations();
    this.outage.recovered();
    for (const tenantId of [...this.pendingFlushes]) {
      const generation = await this.command((redis) => redis.incr(tenantGenerationKey(tenantId)));
      if (generation === undefined) return; // down again; the next 'ready' retries
      this.pendingFlushes.delete(tenantId);
      await this.events.publish({ type: 'TenantCacheFlushed', tenantId });
    }
  }
}
