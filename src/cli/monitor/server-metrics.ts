/**
 * The running server's side of `tenants:monitor`: read its /metrics, keep the counters that matter,
 * and turn two readings into rates for the interval between them.
 */
import { parseExposition, sumBy, sumOf, type Exposition } from '../../observability/exposition.js';

const REQUESTS = 'tenantgraph_graphql_request_duration_seconds';

export type ServerReading = {
  at: number;
  requests: number;
  byOutcome: Record<'success' | 'client_error' | 'server_error', number>;
  durationSeconds: number;
  /** Cumulative request counts by bucket upper bound (seconds), ascending. */
  buckets: [number, number][];
  errors: Map<string, number>;
  topTenants: Map<string, number>;
  pools: { openPools: number; openClients: number; connections: number; peakConnections: number; budgetWaiting: number };
  budgetWaits: number;
  databaseBusy: number;
  rssBytes: number;
};

export type ServerView = {
  available: true;
  url: string;
  requests: { total: number; perSecond: number; success: number; clientErrors: number; serverErrors: number; avgMs: number | null; p95Ms: number | null };
  errors: Record<string, number>;
  pools: ServerReading['pools'] & { budgetWaits: number; databaseBusy: number };
  /** Busiest tenants in the interval; only when the server runs with METRICS_TENANT_LABELS. */
  topTenants: { tenant: string; requests: number }[];
  memoryMb: number;
};

export type ServerUnavailable = { available: false; url: string; reason: string };

/** Why /metrics could not be read, in words an operator can act on. */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
}

export async function fetchServerMetrics(url: string, token: string | undefined, timeoutMs = 3_000): Promise<ServerReading> {
  const target = new URL('/metrics', url).toString();
  let response: Response;
  try {
    response = await fetch(target, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    throw new MetricsUnavailableError(`cannot reach the tenantgraph server at ${target} (${cause})`);
  }
  if (response.status === 401) throw new MetricsUnavailableError(`${target} wants a bearer token: pass --metrics-token or set METRICS_TOKEN`);
  if (response.status === 404) throw new MetricsUnavailableError(`${target} answered 404: is this a tenantgraph server?`);
  if (!response.ok) throw new MetricsUnavailableError(`${target} answered HTTP ${response.status}`);
  return readingOf(parseExposition(await response.text()));
}

export function readingOf(exposition: Exposition, at = Date.now()): ServerReading {
  const outcomes = sumBy(exposition, `${REQUESTS}_count`, 'outcome');
  const buckets = new Map<number, number>();
  for (const sample of exposition.samples) {
    if (sample.name !== `${REQUESTS}_bucket`) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  const registry = (suffix: string) => sumOf(exposition, `tenantgraph_registry_${suffix}`);
  return {
    at,
    requests: sumOf(exposition, `${REQUESTS}_count`),
    byOutcome: { success: outcomes.get('success') ?? 0, client_error: outcomes.get('client_error') ?? 0, server_error: outcomes.get('server_error') ?? 0 },
    durationSeconds: sumOf(exposition, `${REQUESTS}_sum`),
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    errors: sumBy(exposition, 'tenantgraph_graphql_errors_total', 'code'),
    topTenants: sumBy(exposition, 'tenantgraph_top_tenant_requests', 'tenant'),
    pools: {
      openPools: registry('open_pools'),
      openClients: registry('open_clients'),
      connections: registry('connections'),
      peakConnections: registry('connections_peak'),
      budgetWaiting: registry('budget_waiting'),
    },
    budgetWaits: registry('budget_waits_total'),
    databaseBusy: registry('database_busy_total'),
    rssBytes: sumOf(exposition, 'process_resident_memory_bytes'),
  };
}

/**
 * What happened between two readings. A counter that went down means the server restarted:
 * the later reading then counts from zero.
 */
export function serverView(url: string, before: ServerReading, after: ServerReading): ServerView {
  const restarted = after.requests < before.requests;
  const base = restarted ? undefined : before;
  const delta = (pick: (r: ServerReading) => number) => Math.max(0, pick(after) - (base ? pick(base) : 0));
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const total = delta((r) => r.requests);
  const mapDelta = (pick: (r: ServerReading) => Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const [key, value] of pick(after)) {
      const change = value - (base ? (pick(base).get(key) ?? 0) : 0);
      if (change > 0) out[key] = change;
    }
    return out;
  };
  return {
    available: true,
    url,
    requests: {
      total,
      perSecond: round(total / seconds, 2),
      success: delta((r) => r.byOutcome.success),
      clientErrors: delta((r) => r.byOutcome.client_error),
      serverErrors: delta((r) => r.byOutcome.server_error),
      avgMs: total > 0 ? round((delta((r) => r.durationSeconds) / total) * 1000, 1) : null,
      p95Ms: quantileMs(after.buckets, base?.buckets ?? [], 0.95),
    },
    errors: mapDelta((r) => r.errors),
    pools: { ...after.pools, budgetWaits: delta((r) => r.budgetWaits), databaseBusy: delta((r) => r.databaseBusy) },
    topTenants: Object.entries(mapDelta((r) => r.topTenants))
      .map(([tenant, requests]) => ({ tenant, requests }))
      .sort((a, b) => b.requests - a.requests)
      .slice(0, 5),
    memoryMb: round(after.rssBytes / 1024 / 1024, 1),
  };
}

/** The bucket bound under which `q` of the interval's requests finished (an upper bound, like Prometheus' histogram_quantile without interpolation). */
function quantileMs(after: [number, number][], before: [number, number][], q: number): number | null {
  const earlier = new Map(before);
  const counts = after.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)] as const);
  const total = counts.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const wanted = q * total;
  const bucket = counts.find(([, count]) => count >= wanted);
  if (!bucket || bucket[0] === Infinity) return null;
  return round(bucket[0] * 1000, 1);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
