/**
 * Redis connections. One command client per process (`openRedis`); anything that needs subscriber
 * mode takes its own connection (`duplicateRedis`), since a subscribed connection cannot run
 * ordinary commands.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl, type Logger } from './logger.js';

export type RedisClient = Redis;

/** Options every tenantgraph connection uses. */
const BASE_OPTIONS: RedisOptions = {
  // Connect now, so a wrong REDIS_URL shows in the logs at start, not at the first request.
  lazyConnect: false,
  // A command fails after 2 reconnect attempts instead of waiting forever: callers fall back
  // (the tenant directory reads PostgreSQL) rather than hanging a request.
  maxRetriesPerRequest: 2,
  connectTimeout: 5_000,
  // Back off 100 ms, 200 ms, ... up to 2 s between reconnects; never give up.
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
  connectionName: 'tenantgraph',
  // Commands issued in one event-loop turn (by concurrent requests: lookups, rate limits) go out
  // in one write and come back in one read, instead of a socket write each.
  enableAutoPipelining: true,
};

/**
 * Opens a command connection.
 * @param options.name shown in logs and as the Redis CLIENT name; default `tenantgraph`
 */
export function openRedis(url: string, logger: Logger, options: { name?: string; redisOptions?: RedisOptions } = {}): RedisClient {
  const name = options.name ?? 'tenantgraph';
  const client = new Redis(url, { ...BASE_OPTIONS, connectionName: name, ...options.redisOptions });
  watchConnection(client, logger.child({ redis: name, url: redactUrl(url) }));
  return client;
}

/** A second connection with the same options (for subscriber mode), with its own error listener. */
export function duplicateRedis(client: RedisClient, logger: Logger, name: string): RedisClient {
  const duplicate = client.duplicate({ connectionName: name });
  watchConnection(duplicate, logger.child({ redis: name }));
  return duplicate;
}

/** Closes a connection, waiting for pending replies; drops it when Redis does not answer. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Logs connection trouble without flooding: ioredis emits an error per reconnect attempt, so the
 * same message is logged once until the connection is ready again. Without an 'error' listener,
 * Node would crash the process on the first one.
 */
function watchConnection(client: RedisClient, logger: Logger): void {
  let lastError: string | undefined;
  client.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error }, 'Redis connection error; retrying');
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.info('Redis connection ready again');
    lastError = undefined;
  });
}
