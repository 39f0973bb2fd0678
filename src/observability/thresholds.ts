/**
 * Checks a few thresholds every few seconds, off the request path: slow connection acquisition
 * (average wait for a budget slot, or any DATABASE_BUSY), process memory (RSS) and pool
 * saturation (tenant connections / DB_MAX_CONNECTIONS). Each exceedance counts in
 * `tenantgraph_threshold_exceeded_total{threshold}`; the warning line is rate-limited (one per
 * threshold per minute, saying how many checks it stands for).
 */
import { type Logger } from '../infra/logger.js';
import { type RegistryMetrics } from '../tenancy/registry/registry-types.js';
import { type AppMetrics, type ThresholdName } from './metrics.js';

export type ThresholdLimits = {
  warnAcquireMs: number;
  warnRssBytes: number;
  /** Fraction of `maxConnections`. */
  warnPoolSaturation: number;
  maxConnections: number;
};

export type ThresholdWatchOptions = {
  logger: Logger;
  metrics: Pick<AppMetrics, 'thresholdExceeded'>;
  registryMetrics: () => RegistryMetrics;
  limits: ThresholdLimits;
  /** Default 5000. */
  intervalMs?: number;
  /** Default 60000. */
  warnEveryMs?: number;
  /** Default process.memoryUsage.rss. */
  rss?: () => number;
};

export type ThresholdWatch = {
  /** One check now (the timer calls it; tests call it directly). */
  check(): void;
  stop(): void;
};

export function watchThresholds(options: ThresholdWatchOptions): ThresholdWatch {
  const { logger, metrics, limits } = options;
  const warnEveryMs = options.warnEveryMs ?? 60_000;
  const rss = options.rss ?? (() => process.memoryUsage.rss());
  const lastWarned = new Map<ThresholdName, number>();
  const suppressed = new Map<ThresholdName, number>();
  let previous = options.registryMetrics();

  const exceeded = (name: ThresholdName, details: Record<string, number>, message: string) => {
    metrics.thresholdExceeded(name);
    const now = Date.now();
    const last = lastWarned.get(name);
    if (last !== undefined && now - last < warnEveryMs) {
      suppressed.set(name, (suppressed.get(name) ?? 0) + 1);
      return;
    }
    lastWarned.set(name, now);
    const skipped = suppressed.get(name) ?? 0;
    suppressed.set(name, 0);
    logger.warn({ threshold: name, ...details, ...(skipped ? { alsoExceededSinceLastWarning: skipped } : {}) }, message);
  };

  const check = () => {
    const memory = rss();
    if (memory > limits.warnRssBytes) {
      exceeded('memory', { rssMb: Math.round(memory / 1048576), limitMb: Math.round(limits.warnRssBytes / 1048576) }, 'process memory (RSS) above WARN_RSS_MB');
    }
    const now = options.registryMetrics();
    const saturation = now.connections / limits.maxConnections;
    if (saturation >= limits.warnPoolSaturation) {
      exceeded(
        'pool_saturation',
        { connections: now.connections, maxConnections: limits.maxConnections, waiting: now.budgetWaiting },
        'tenant connections near DB_MAX_CONNECTIONS (WARN_POOL_SATURATION)',
      );
    }
    // Waits since the last check: their average, and any that ended in DATABASE_BUSY.
    const served = now.budgetWaits - now.busyErrors - (previous.budgetWaits - previous.busyErrors);
    const averageWaitMs = served > 0 ? (now.budgetWaitMs - previous.budgetWaitMs) / served : 0;
    const busy = now.busyErrors - previous.busyErrors;
    if (averageWaitMs > limits.warnAcquireMs || busy > 0) {
      exceeded(
        'slow_acquire',
        { averageWaitMs: Math.round(averageWaitMs), waits: served, databaseBusy: busy, limitMs: limits.warnAcquireMs },
        busy > 0 ? 'queries failed with DATABASE_BUSY: no connection within DB_ACQUIRE_TIMEOUT_MS' : 'slow connection acquisition (average wait above WARN_ACQUIRE_MS)',
      );
    }
    previous = now;
  };

  const timer = setInterval(check, options.intervalMs ?? 5_000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
