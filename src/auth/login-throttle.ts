/**
 * Failed sign-ins, counted per account (email) and per client IP with rate-limiter-flexible:
 * in Redis when REDIS_URL is set (so every process shares the count), else in this process.
 * After `maxFailures` failures within `lockSeconds`, the key is locked for `lockSeconds`.
 * The account key is counted whether or not the account exists, so a lock reveals nothing.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { type RedisClient } from '../infra/redis.js';

export type LoginThrottleOptions = {
  maxFailures: number;
  /** Per IP; default 10 × maxFailures (many people may share one address). */
  maxFailuresPerIp?: number;
  lockSeconds: number;
  redis?: RedisClient;
  /** Prefix of Redis keys; default `tg:login`. */
  keyPrefix?: string;
};

export type ThrottleVerdict = { locked: false } | { locked: true; retryAfterSeconds: number };

export class LoginThrottle {
  private readonly accounts: RateLimiterAbstract;
  private readonly ips: RateLimiterAbstract;

  constructor(private readonly options: LoginThrottleOptions) {
    const make = (name: string, points: number): RateLimiterAbstract => {
      const settings = { keyPrefix: `${options.keyPrefix ?? 'tg:login'}:${name}`, points, duration: options.lockSeconds };
      return options.redis ? new RateLimiterRedis({ ...settings, storeClient: options.redis }) : new RateLimiterMemory(settings);
    };
    this.accounts = make('account', options.maxFailures);
    this.ips = make('ip', options.maxFailuresPerIp ?? options.maxFailures * 10);
  }

  /** Whether a sign-in for this email from this IP may be tried at all. */
  async check(email: string, ip: string | null): Promise<ThrottleVerdict> {
    const [account, address] = await Promise.all([this.accounts.get(email), ip ? this.ips.get(ip) : null]);
    const waits = [verdict(account, this.options.maxFailures), verdict(address, this.options.maxFailuresPerIp ?? this.options.maxFailures * 10)];
    const longest = Math.max(...waits);
    return longest > 0 ? { locked: true, retryAfterSeconds: longest } : { locked: false };
  }

  async recordFailure(email: string, ip: string | null): Promise<void> {
    await Promise.all([fail(this.accounts, email, this.options.lockSeconds), ip ? fail(this.ips, ip, this.options.lockSeconds) : undefined]);
  }

  /** A successful sign-in clears the account's count (not the IP's). */
  async recordSuccess(email: string): Promise<void> {
    await this.accounts.delete(email);
  }
}

/** Seconds left of a lock, or 0. */
function verdict(state: RateLimiterRes | null, points: number): number {
  if (!state || state.consumedPoints < points) return 0;
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

async function fail(limiter: RateLimiterAbstract, key: string, lockSeconds: number): Promise<void> {
  try {
    const state = await limiter.consume(key);
    // The failure that reaches the limit starts a full lock, whenever the first failure was.
    if (state.remainingPoints === 0) await limiter.block(key, lockSeconds);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error; // already over the limit: stays locked
  }
}
