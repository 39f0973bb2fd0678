/**
 * The tenant cache port: one namespace per tenant, `tg:<tenantId>:<generation>:<key>`, holding
 * JSON values. Flushing a tenant bumps its generation: its old keys are never read again and
 * expire on their own, so a flush is O(1) whatever the tenant holds (no SCAN, no key listing).
 *
 * A `TenantCache` is bound to one tenant when it is made (`store.forTenant(id)`), and every key it
 * touches carries that tenant's id: there is no call that reaches another tenant's keys.
 */

export interface TenantCache {
  /** The value, or undefined on a miss (or while the backing store is unavailable). */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores a JSON-serialisable value; `undefined` is not stored. Dropped while the store is unavailable. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** The cached value, else `load()`'s result, cached for `ttlMs`. Concurrent calls for one key share one load. */
  getOrSet<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  /** Forgets every key of this tenant (its generation moves on). */
  flush(): Promise<void>;
}

export type CacheHealth = { status: 'ok' } | { status: 'degraded'; reason: string };

export interface TenantCacheStore {
  /** Cheap (no I/O): called per request and per job. */
  forTenant(tenantId: string): TenantCache;
  /** Bumps the tenant's generation, in every process. */
  flushTenant(tenantId: string): Promise<void>;
  health(): CacheHealth;
  close(): Promise<void>;
}

/**
 * The slice of the tenancy event bus the cache uses (TenancyEvents satisfies it). Kept here so
 * infra/ does not import tenancy/.
 */
export interface CacheFlushEvents {
  publish(event: { type: 'TenantCacheFlushed'; tenantId: string }): Promise<void>;
  on(
    type: 'TenantCacheFlushed',
    handler: (event: { type: 'TenantCacheFlushed'; tenantId: string }, origin: 'local' | 'remote') => void | Promise<void>,
  ): () => void;
  onResync(handler: () => void): () => void;
}

/** Without a TTL, a key lives this long (1 hour): flushed generations must age out. */
export const DEFAULT_CACHE_TTL_MS = 3_600_000;

/** Tenant ids are uuids; anything with a `:` would make the key prefix ambiguous. */
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_KEY_LENGTH = 512;

export const tenantGenerationKey = (tenantId: string) => `tg:${tenantId}:gen`;
export const tenantCacheKey = (tenantId: string, generation: number, key: string) => `tg:${tenantId}:${generation}:${key}`;

export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID.test(tenantId)) throw new TypeError(`tenant cache: ${JSON.stringify(tenantId.slice(0, 80))} is not a tenant id`);
}

function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new TypeError(`tenant cache: a key is a string of 1 to ${MAX_KEY_LENGTH} characters`);
  }
}

function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new TypeError(`tenant cache: ttlMs must be a positive whole number of milliseconds, got ${ttlMs}`);
}

/**
 * What a store implements: its tenants' generations and raw JSON text by full key; the view
 * adds validation, JSON and key building on top.
 */
export interface TenantCacheBackend {
  /** The tenant's current generation, or undefined while it cannot be known (store unavailable): a miss. */
  generation(tenantId: string): Promise<number | undefined>;
  get(fullKey: string): Promise<string | undefined>;
  set(fullKey: string, json: string, ttlMs: number): Promise<void>;
  del(fullKey: string): Promise<void>;
  flushTenant(tenantId: string): Promise<void>;
}

/**
 * One tenant's view of a store. `inflight` is the store's (shared by every view), keyed by
 * tenant and key, so concurrent `getOrSet` calls for one key run one load.
 */
export class TenantCacheView implements TenantCache {
  constructor(
    private readonly backend: TenantCacheBackend,
    private readonly tenantId: string,
    private readonly inflight: Map<string, Promise<unknown>>,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    assertKey(key);
    const generation = await this.backend.generation(this.tenantId);
    return generation === undefined ? undefined : this.readAt<T>(generation, key);
  }

  async set<T>(key: string, value: T, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<void> {
    assertKey(key);
    assertTtl(ttlMs);
    const generation = await this.backend.generation(this.tenantId);
    if (generation !== undefined) await this.writeAt(generation, key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    const generation = await this.backend.generation(this.tenantId);
    if (generation !== undefined) await this.backend.del(tenantCacheKey(this.tenantId, generation, key));
  }

  getOrSet<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    assertKey(key);
    assertTtl(ttlMs);
    const flightKey = `${this.tenantId}\u0000${key}`;
    const pending = this.inflight.get(flightKey);
    if (pending) return pending as Promise<T>;
    const started: Promise<T> = (async () => {
      const generation = await this.backend.generation(this.tenantId);
      if (generation === undefined) return load();
      const cached = await this.readAt<T>(generation, key);
      if (cached !== undefined) return cached;
      const value = await load();
      // Into the generation read before loading: if the tenant was flushed meanwhile, the value
      // (maybe computed from what the flush meant to forget) lands in a retired generation.
      await this.writeAt(generation, key, value, ttlMs);
      return value;
    })().finally(() => {
      if (this.inflight.get(flightKey) === started) this.inflight.delete(flightKey);
    });
    this.inflight.set(flightKey, started);
    return started;
  }

  flush(): Promise<void> {
    return this.backend.flushTenant(this.tenantId);
  }

  private async readAt<T>(generation: number, key: string): Promise<T | undefined> {
    const raw = await this.backend.get(tenantCacheKey(this.tenantId, generation, key));
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined; // not written by us: a miss
    }
  }

  private async writeAt(generation: number, key: string, value: unknown, ttlMs: number): Promise<void> {
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) await this.backend.set(tenantCacheKey(this.tenantId, generation, key), json, ttlMs);
  }
}
