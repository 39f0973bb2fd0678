/**
 * Request rate limits (rate-limiter-flexible): per client IP for anonymous requests, per client
 * IP for failed authentications (401), per principal for authenticated requests. Counters live
 * in Redis when REDIS_URL is set (shared by every process), in process memory otherwise; when
 * Redis is unreachable each process counts on its own (the insurance limiter) rather than
 * refusing or skipping the check.
 *
 * Failed authentications are counted after identification failed, not checked before it: a
 * request with a valid token is never slowed by a neighbour behind the same NAT sending bad ones,
 * and the hot path of a good request touches only its own counter (in process memory for most
 * requests: see leasedConsumer).
 */
import { type IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { type Config } from '../config.js';
import { AppError, ErrorCode, isAppError } from '../errors/index.js';
import { type Identification } from '../tenancy/identification/identification-types.js';
import { type RedisClient } from './redis.js';

const MINUTE_SECONDS = 60;

export type RateLimits = {
  /** Runs identification, then counts the request; throws RATE_LIMITED (429) past a limit. */
  identify(clientIp: string, identify: () => Promise<Identification>): Promise<Identification>;
  /**
   * Seconds until an address this process saw exhaust its anonymous limit may send again, else
   * undefined. Synchronous and in memory: the server checks it before reading the body of a
   * request without credentials, so a refused flood of 1 MB documents is not even parsed.
   */
  anonymousRetryAfter(clientIp: string): number | undefined;
};

/** Addresses remembered as over their anonymous limit (per process; the store stays the authority). */
const MAX_REMEMBERED_ADDRESSES = 10_000;

/**
 * @param namespace keeps installations that share a Redis apart (the central database name)
 */
export function makeRateLimits(config: Config['limits']['rate'], redis: RedisClient | undefined, namespace: string): RateLimits {
  const limiter = (name: string, points: number): RateLimiterAbstract => {
    const options = { keyPrefix: `tenantgraph:rate:${namespace}:${name}`, points, duration: MINUTE_SECONDS };
    if (!redis) return new RateLimiterMemory(options);
    return new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) });
  };
  const anonymous = limiter('anonymous-ip', config.anonymousPerMinute);
  const failures = limiter('auth-failure-ip', config.authFailuresPerMinute);
  const principals = leasedConsumer(limiter('principal', config.principalPerMinute), config.principalPerMinute);
  const anonymousUntil = new LRUCache<string, number>({ max: MAX_REMEMBERED_ADDRESSES });

  return {
    async identify(clientIp, identify) {
      let identified: Identification;
      try {
        identified = await identify();
      } catch (error) {
        if (isAppError(error) && error.code === ErrorCode.UNAUTHENTICATED) await consume(failures, clientIp);
        throw error;
      }
      const { principal } = identified;
      if (principal.kind === 'anonymous') await consume(anonymous, clientIp, (ms) => anonymousUntil.set(clientIp, Date.now() + ms));
      else if (principal.kind === 'user') await principals(`${principal.tenantId ?? 'central'}:${principal.subject}`);
      return identified;
    },
    anonymousRetryAfter(clientIp) {
      const until = anonymousUntil.get(clientIp);
      if (until === undefined) return undefined;
      const ms = until - Date.now();
      if (ms > 0) return Math.ceil(ms / 1000);
      anonymousUntil.delete(clientIp);
      return undefined;
    },
  };
}

async function consume(limiter: RateLimiterAbstract, key: string, onRefused?: (msBeforeNext: number) => void): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    onRefused?.(rejection.msBeforeNext);
    throw rateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
  }
}

/** Principals whose lease a process remembers (an evicted lease only forfeits its unused points). */
const MAX_LEASES = 10_000;
/** A lease is this share of the limit (1 %), so N processes refuse at most N % early. */
const LEASE_DIVISOR = 100;
const MAX_LEASE_POINTS = 100;

/** `refused`: the store refused part of it, so once it is spent the principal waits for `until`. */
type Lease = { remaining: number; until: number; refused: boolean };

/**
 * The per-principal counter without a store round trip per request: a process takes points from
 * the store in leases of 1 % of the limit and spends them locally until the lease runs out or its
 * window ends. Leased points are counted in the store when taken, so the limit is never exceeded
 * across processes; a process holding unspent points only makes others refuse a little early.
 * Limits under 200 a minute lease one point at a time: exactly the plain limiter.
 */
export function leasedConsumer(limiter: RateLimiterAbstract, points: number): (key: string) => Promise<void> {
  const leaseSize = Math.min(MAX_LEASE_POINTS, Math.floor(points / LEASE_DIVISOR));
  if (leaseSize <= 1) return (key) => consume(limiter, key);
  const leases = new LRUCache<string, Lease>({ max: MAX_LEASES });
  // One lease request per principal at a time: 40 concurrent requests must not take 40 leases.
  const pending = new Map<string, Promise<void>>();

  const takeLease = async (key: string): Promise<void> => {
    try {
      const granted = await limiter.consume(key, leaseSize);
      leases.set(key, { remaining: leaseSize, until: Date.now() + granted.msBeforeNext, refused: false });
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // The store counted the whole lease; the points that were still under the limit are ours.
      const underLimit = Math.max(0, points - (rejection.consumedPoints - leaseSize));
      leases.set(key, { remaining: underLimit, until: Date.now() + rejection.msBeforeNext, refused: true });
    }
  };

  const spend = async (key: string): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = leases.get(key);
      const now = Date.now();
      if (lease && lease.until > now) {
        if (lease.remaining > 0) {
          lease.remaining--;
          return;
        }
        if (lease.refused) throw rateLimited(Math.max(1, Math.ceil((lease.until - now) / 1000)));
      }
      let taking = pending.get(key);
      if (!taking) {
        taking = takeLease(key).finally(() => pending.delete(key));
        pending.set(key, taking);
      }
      await taking;
    }
    // A lease that ended as it was granted (a window boundary) three times over: count directly.
    await consume(limiter, key);
  };
  return spend;
}

function rateLimited(seconds: number): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${seconds} s`, {
    details: { retryAfterSeconds: seconds },
    headers: { 'retry-after': String(seconds) },
  });
}

/** Installations sharing one Redis count apart: by central database (host, port and name). */
export function rateLimitNamespace(config: Config): string {
  if (config.database.kind === 'embedded') return `embedded-${config.database.port}`;
  const url = new URL(config.database.url);
  return `${url.hostname}-${url.port || '5432'}${url.pathname.replace(/\//g, '-')}`;
}

/**
 * The client's address. Behind `trustProxy` proxies, the address the outermost trusted proxy saw
 * (X-Forwarded-For, counted from the right: entries further left are whatever the client wrote).
 */
export function clientIp(req: IncomingMessage, trustProxy: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy === 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((part) => part.trim()).filter(Boolean);
  return forwarded[forwarded.length - trustProxy] ?? forwarded[0] ?? socketAddress;
}
