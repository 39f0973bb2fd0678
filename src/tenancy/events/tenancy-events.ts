/**
 * The tenancy event bus: `publish` runs this process's handlers at once, then sends the event to
 * every other process over Redis pub/sub (channel `tg:events`), where their handlers run too.
 * Without Redis it is in-process only (one process).
 *
 * Handlers never break the publisher or each other: an error (or rejected promise) is logged.
 * Local handlers have finished when `publish` resolves, and only then does the event go to
 * Redis: a handler that cleans a shared cache (the directory's Redis entries) is done before
 * another process reacts by reading it.
 *
 * Pub/sub delivers at most once. After the subscriber connection comes back, messages sent while
 * it was away are lost, so `onResync` handlers run: they drop what they cached.
 */
import { randomUUID } from 'node:crypto';
import { type Logger } from '../../infra/logger.js';
import { OutageNotice } from '../../infra/outage-notice.js';
import { closeRedis, duplicateRedis, type RedisClient } from '../../infra/redis.js';
import { tenancyEventSchema, type EventOf, type EventOrigin, type TenancyEvent, type TenancyEventType } from './tenancy-event.js';

export const TENANCY_EVENTS_CHANNEL = 'tg:events';

export type TenancyEventHandler<T extends TenancyEventType = TenancyEventType> = (event: EventOf<T>, origin: EventOrigin) => void | Promise<void>;

export interface TenancyEvents {
  /** Runs this process's handlers, then sends the event to every other process (when Redis is configured). */
  publish(event: TenancyEvent): Promise<void>;
  /** Subscribes to one event type, or every type with '*'. Returns the unsubscribe function. */
  on<T extends TenancyEventType>(type: T | '*', handler: TenancyEventHandler<T>): () => void;
  /** Called after the subscriber reconnected: events may have been missed, drop cached state. */
  onResync(handler: () => void): () => void;
  close(): Promise<void>;
}

/** What travels over Redis: the event, and which bus sent it (so the sender skips its own echo). */
type Envelope = { v: 1; origin: string; event: TenancyEvent };

/**
 * Opens the bus. With Redis, subscribes on its own connection (duplicated from `redis`) and
 * fails with a clear message when Redis cannot be reached at start.
 * @param options.redis the process's command connection (used to publish), or undefined for in-process only
 * @param options.channel pub/sub channel; default `tg:events`
 */
export async function openTenancyEvents(options: { redis: RedisClient | undefined; logger: Logger; channel?: string }): Promise<TenancyEvents> {
  const bus = new TenancyEventBus(options.redis, options.logger.child({ component: 'tenancy-events' }), options.channel ?? TENANCY_EVENTS_CHANNEL);
  await bus.start();
  return bus;
}

class TenancyEventBus implements TenancyEvents {
  private readonly handlers = new Map<TenancyEventType | '*', Set<TenancyEventHandler<never>>>();
  private readonly resyncHandlers = new Set<() => void>();
  /** Tells this bus's own messages apart when Redis echoes them back. */
  private readonly origin = randomUUID();
  private subscriber: RedisClient | undefined;
  /** An outage is logged once, not per event. */
  private readonly redisOutage: OutageNotice;
  private closed = false;

  constructor(
    private readonly redis: RedisClient | undefined,
    private readonly logger: Logger,
    private readonly channel: string,
  ) {
    this.redisOutage = new OutageNotice(logger, 'tenancy events', 'reach this process only (other processes catch up when their caches expire)');
  }

  async start(): Promise<void> {
    if (!this.redis) return;
    const subscriber = duplicateRedis(this.redis, this.logger, 'tenantgraph:events-subscriber');
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    let firstReady = true;
    subscriber.on('ready', () => {
      if (firstReady) return void (firstReady = false);
      // ioredis re-subscribes by itself; what was published meanwhile is lost.
      this.logger.info('tenancy events subscriber reconnected: dropping cached tenant state');
      for (const handler of this.resyncHandlers) this.runSafely(() => handler(), 'resync');
    });
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      subscriber.disconnect();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot subscribe to tenancy events in Redis: ${reason}. Check REDIS_URL and that Redis is running, or unset REDIS_URL to run a single process without Redis.`, {
        cause: error,
      });
    }
    this.subscriber = subscriber;
  }

  async publish(event: TenancyEvent): Promise<void> {
    if (this.closed) throw new Error(`tenancy events are closed; cannot publish ${event.type}`);
    await this.dispatch(event, 'local');
    const redis = this.redis;
    if (!redis) return;
    const envelope: Envelope = { v: 1, origin: this.origin, event };
    try {
      // Not connected: fail now rather than queue behind reconnects (other processes resync when they reconnect).
      if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
      await redis.publish(this.channel, JSON.stringify(envelope));
      this.redisOutage.recovered();
    } catch (error) {
      // The change is committed; failing the caller would not undo it. Other processes see it
      // when their caches expire (TENANT_CACHE_TTL_MS) or when they resync after reconnecting.
      this.redisOutage.failed(error);
    }
  }

  on<T extends TenancyEventType>(type: T | '*', handler: TenancyEventHandler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const stored = handler as unknown as TenancyEventHandler<never>;
    set.add(stored);
    return () => void set.delete(stored);
  }

  onResync(handler: () => void): () => void {
    this.resyncHandlers.add(handler);
    return () => void this.resyncHandlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.resyncHandlers.clear();
    if (this.subscriber) await closeRedis(this.subscriber);
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      const parsed = JSON.parse(message) as Partial<Envelope>;
      if (parsed.origin === this.origin) return; // already handled locally by publish()
      envelope = { v: 1, origin: String(parsed.origin), event: tenancyEventSchema.parse(parsed.event) };
    } catch (error) {
      // Another version, or not ours: never let it reach a handler.
      this.logger.warn({ err: error }, 'ignored an unreadable tenancy event');
      return;
    }
    void this.dispatch(envelope.event, 'remote');
  }

  private async dispatch(event: TenancyEvent, origin: EventOrigin): Promise<void> {
    const handlers = [...(this.handlers.get(event.type) ?? []), ...(this.handlers.get('*') ?? [])];
    if (handlers.length === 0) return;
    await Promise.all(handlers.map((handler) => this.runSafely(() => handler(event as never, origin), event.type, event.tenantId)));
  }

  private async runSafely(call: () => void | Promise<void>, what: string, tenantId?: string): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.logger.error({ err: error, event: what, tenantId }, 'a tenancy event handler failed');
    }
  }
}
