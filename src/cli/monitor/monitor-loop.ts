/**
 * The sampling loop of `tenants:monitor`: a baseline reading, then one sample per interval (rates
 * are for that interval), then a summary when the duration is over or the operator interrupts.
 */
import { readDatabaseActivity, type DatabaseView } from './database-activity.js';
import { fetchServerMetrics, MetricsUnavailableError, serverView, type ServerReading, type ServerUnavailable, type ServerView } from './server-metrics.js';
import type pg from 'pg';

export type MonitorOptions = {
  intervalSeconds: number;
  /** Unset: until interrupted. */
  durationSeconds: number | undefined;
  url: string;
  /** The operator named the server (--url): not reaching it is then an error, not a database-only view. */
  urlGiven: boolean;
  metricsToken: string | undefined;
  sharedDatabase: string;
};

export type MonitorSample = { type: 'sample'; sample: number; at: string; intervalSeconds: number; metrics: ServerView | ServerUnavailable; database: DatabaseView };

export type MonitorSummary = {
  type: 'summary';
  samples: number;
  durationSeconds: number;
  metricsAvailable: boolean;
  requests: { total: number; perSecond: number; clientErrors: number; serverErrors: number };
  errors: Record<string, number>;
  peakConnections: number;
  peakActive: number;
  slowest: { database: string; tenant: string | undefined; runningMs: number } | undefined;
};

export async function runMonitor(central: Pick<pg.Pool, 'query'>, options: MonitorOptions, emit: (sample: MonitorSample) => void, signal: AbortSignal): Promise<MonitorSummary> {
  const started = Date.now();
  let baseline: ServerReading | undefined;
  let unavailable: string | undefined;
  try {
    baseline = await fetchServerMetrics(options.url, options.metricsToken);
  } catch (error) {
    if (!(error instanceof MetricsUnavailableError) || options.urlGiven) throw error;
    unavailable = error.message;
  }

  const summary: MonitorSummary = {
    type: 'summary',
    samples: 0,
    durationSeconds: 0,
    metricsAvailable: false,
    requests: { total: 0, perSecond: 0, clientErrors: 0, serverErrors: 0 },
    errors: {},
    peakConnections: 0,
    peakActive: 0,
    slowest: undefined,
  };
  const samples = options.durationSeconds === undefined ? Infinity : Math.max(1, Math.floor(options.durationSeconds / options.intervalSeconds));
  for (let n = 1; n <= samples; n++) {
    if (!(await sleep(options.intervalSeconds * 1000, signal))) break;
    let metrics: ServerView | ServerUnavailable;
    try {
      const reading = await fetchServerMetrics(options.url, options.metricsToken);
      metrics = serverView(options.url, baseline ?? reading, reading);
      baseline = reading;
    } catch (error) {
      if (!(error instanceof MetricsUnavailableError)) throw error;
      unavailable = error.message;
      metrics = { available: false, url: options.url, reason: unavailable };
    }
    const database = await readDatabaseActivity(central, options.sharedDatabase);
    emit({ type: 'sample', sample: n, at: new Date().toISOString(), intervalSeconds: options.intervalSeconds, metrics, database });
    accumulate(summary, metrics, database);
  }
  summary.durationSeconds = Math.round((Date.now() - started) / 100) / 10;
  summary.requests.perSecond = summary.durationSeconds > 0 ? Math.round((summary.requests.total / summary.durationSeconds) * 100) / 100 : 0;
  return summary;
}

function accumulate(summary: MonitorSummary, metrics: ServerView | ServerUnavailable, database: DatabaseView): void {
  summary.samples++;
  if (metrics.available) {
    summary.metricsAvailable = true;
    summary.requests.total += metrics.requests.total;
    summary.requests.clientErrors += metrics.requests.clientErrors;
    summary.requests.serverErrors += metrics.requests.serverErrors;
    for (const [code, count] of Object.entries(metrics.errors)) summary.errors[code] = (summary.errors[code] ?? 0) + count;
  }
  summary.peakConnections = Math.max(summary.peakConnections, database.connections.total);
  summary.peakActive = Math.max(summary.peakActive, database.connections.active);
  const slowest = database.slowest[0];
  if (slowest && slowest.runningMs > (summary.slowest?.runningMs ?? 0)) summary.slowest = slowest;
}

/** Waits, or stops early when interrupted; true when the whole wait passed. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
