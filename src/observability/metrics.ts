/**
 * Prometheus metrics of one running app, served at /metrics (src/server.ts).
 *
 * Each app has its own prom-client Registry: nothing lives in prom-client's global registry, so
 * two apps in one process (tests) never share or double-register series.
 *
 * No label carries a tenant id or slug, except the opt-in top-N gauge (METRICS_TENANT_LABELS):
 * label values stay bounded (operation types, levels, outcomes, error codes, identifiers).
 *
 * Hooks for other parts of the server (provisioning, migrations, jobs) are the `observe*` and
 * `setJobCounts` members; they only record numbers and never throw.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type RegistryMetrics } from '../tenancy/registry/registry-types.js';
import { TopTenants } from './top-tenants.js';

export type RequestOutcome = 'success' | 'client_error' | 'server_error';

/** What one finished request tells the metrics; built once per request in server.ts. */
export type RequestObservation = {
  /** `query`, `mutation`, `subscription`, or `none` when no operation was resolved. */
  operationType: string;
  /** The tenant level the request ran at (`CENTRAL`, `APP`, `CENTRAL_TENANT`, `TENANT`), or `none` when identification failed. */
  level: string;
  outcome: RequestOutcome;
  durationSeconds: number;
  /** The identifier that chose the tenant (`token`, `domain`, ...), `none` (central), `failed`. */
  identifiedBy: string;
  /** Only read when top-N tenant labels are on. */
  tenantSlug: string | undefined;
  errorCodes: readonly string[];
};

export type ThresholdName = 'slow_acquire' | 'memory' | 'pool_saturation';

export type JobCount = { queue: string; state: string; count: number };

export type AppMetrics = {
  readonly registry: Registry;
  observeRequest(observation: RequestObservation): void;
  /** A tenant (database or schema) provisioned or failed to. */
  observeProvisioning(isolation: string, outcome: 'success' | 'failure', seconds: number): void;
  /** A migration run of one target kind (`central`, `tenant`, `pos`...; never a tenant name). */
  observeMigration(targetKind: string, outcome: 'success' | 'failure', seconds: number): void;
  /** Where `tenantgraph_jobs` reads job counts by queue and state at scrape time. */
  setJobCounts(source: () => Promise<readonly JobCount[]> | readonly JobCount[]): void;
  thresholdExceeded(name: ThresholdName): void;
  /** The text exposition format, and its content type. */
  render(): Promise<string>;
  readonly contentType: string;
};

export type MetricsOptions = {
  /** Read at scrape time; the client registry's counters. */
  registryMetrics: () => RegistryMetrics;
  /** Report the N busiest tenants by slug (0: never label by tenant). */
  tenantLabels: number;
  /** Node's default process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
};

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLOW_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(options: MetricsOptions): AppMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requestDuration = new Histogram({
    name: 'tenantgraph_graphql_request_duration_seconds',
    help: 'GraphQL requests by operation type, tenant level and outcome, from the first byte read to the last byte written.',
    labelNames: ['operation_type', 'level', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const identifications = new Counter({
    name: 'tenantgraph_identifications_total',
    help: 'GraphQL requests by what identified their tenant: token, domain, subdomain, header, none (central) or failed.',
    labelNames: ['source'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'tenantgraph_graphql_errors_total',
    help: 'Errors sent to clients, by extensions.code.',
    labelNames: ['code'] as const,
    registers,
  });
  const thresholds = new Counter({
    name: 'tenantgraph_threshold_exceeded_total',
    help: 'Times a checked threshold was exceeded (WARN_ACQUIRE_MS, WARN_RSS_MB, WARN_POOL_SATURATION).',
    labelNames: ['threshold'] as const,
    registers,
  });
  for (const name of ['slow_acquire', 'memory', 'pool_saturation'] satisfies ThresholdName[]) thresholds.inc({ threshold: name }, 0);
  // Every request observes these: the labelled child of each series is kept, so a request does not
  // hash its label object again (prom-client sorts and joins the labels on every call). The label
  // values are a few fixed words each (operation type, level, outcome, source): the maps stay small.
  const durationChildren = new Map<string, Histogram.Internal<'operation_type' | 'level' | 'outcome'>>();
  const durationSeries = (operationType: string, level: string, outcome: string) => {
    const key = `${operationType}\u0000${level}\u0000${outcome}`;
    let child = durationChildren.get(key);
    if (child === undefined) {
      child = requestDuration.labels({ operation_type: operationType, level, outcome });
      durationChildren.set(key, child);
    }
    return child;
  };
  const identificationChildren = new Map<string, Counter.Internal>();
  const identificationSeries = (source: string) => {
    let child = identificationChildren.get(source);
    if (child === undefined) {
      child = identifications.labels({ source });
      identificationChildren.set(source, child);
    }
    return child;
  };
  const provisioning = new Histogram({
    name: 'tenantgraph_tenant_provisioning_duration_seconds',
    help: 'Tenant provisioning runs by isolation (DATABASE, SCHEMA) and outcome.',
    labelNames: ['isolation', 'outcome'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  const migrations = new Histogram({
    name: 'tenantgraph_migration_duration_seconds',
    help: 'Migration runs by target kind (central, app, group, tenant, emr, pos, scm) and outcome.',
    labelNames: ['target', 'outcome'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  let jobCounts: (() => Promise<readonly JobCount[]> | readonly JobCount[]) | undefined;
  new Gauge({
    name: 'tenantgraph_jobs',
    help: 'Background jobs by queue and state, read at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      if (!jobCounts) return;
      const counts = await jobCounts();
      this.reset();
      for (const { queue, state, count } of counts) this.set({ queue, state }, count);
    },
  });

  registryMetrics(registers, options.registryMetrics);

  const top = options.tenantLabels > 0 ? new TopTenants(Math.max(options.tenantLabels * 10, 100)) : undefined;
  if (top) {
    new Gauge({
      name: 'tenantgraph_top_tenant_requests',
      help: `GraphQL requests of the ${options.tenantLabels} busiest tenants since start (METRICS_TENANT_LABELS; counts are upper bounds).`,
      labelNames: ['tenant'] as const,
      registers,
      collect() {
        this.reset();
        for (const [tenant, requests] of top.top(options.tenantLabels)) this.set({ tenant }, requests);
      },
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    observeRequest(observation) {
      durationSeries(observation.operationType, observation.level, observation.outcome).observe(observation.durationSeconds);
      identificationSeries(observation.identifiedBy).inc();
      for (const code of observation.errorCodes) errors.inc({ code });
      if (top && observation.tenantSlug) top.add(observation.tenantSlug);
    },
    observeProvisioning(isolation, outcome, seconds) {
      provisioning.observe({ isolation, outcome }, seconds);
    },
    observeMigration(targetKind, outcome, seconds) {
      migrations.observe({ target: targetKind, outcome }, seconds);
    },
    setJobCounts(source) {
      jobCounts = source;
    },
    thresholdExceeded(name) {
      thresholds.inc({ threshold: name });
    },
    render: () => registry.metrics(),
  };
}

/** The client registry's numbers, read when Prometheus scrapes (nothing on the request path). */
function registryMetrics(registers: Registry[], read: () => RegistryMetrics): void {
  // One read per scrape, shared by every series below (each collect() runs in the same tick).
  let cached: { at: number; value: RegistryMetrics } | undefined;
  const snapshot = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, value: read() };
    return cached.value;
  };
  const counter = (name: string, help: string, pick: (m: RegistryMetrics) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(pick(snapshot()));
      },
    });
  const gauge = (name: string, help: string, pick: (m: RegistryMetrics) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(snapshot()));
      },
    });
  counter('tenantgraph_registry_client_hits_total', 'Leases served by a cached Prisma client.', (m) => m.clientHits);
  counter('tenantgraph_registry_client_misses_total', 'Leases that had to build a Prisma client.', (m) => m.clientMisses);
  counter('tenantgraph_registry_client_evictions_total', 'Prisma clients evicted (LRU, idle or pool retired).', (m) => m.clientEvictions);
  counter('tenantgraph_registry_pool_evictions_total', 'Connection pools closed (idle, pressure).', (m) => m.poolEvictions);
  gauge('tenantgraph_registry_open_clients', 'Prisma clients open now.', (m) => m.openClients);
  gauge('tenantgraph_registry_open_pools', 'Connection pools open now (one per tenant database).', (m) => m.openPools);
  gauge('tenantgraph_registry_connections', 'Physical connections of all tenant pools now (never above DB_MAX_CONNECTIONS).', (m) => m.connections);
  gauge('tenantgraph_registry_connections_peak', 'Highest number of tenant connections since start.', (m) => m.peakConnections);
  gauge('tenantgraph_registry_budget_waiting', 'Connections waiting for a slot of the global budget now.', (m) => m.budgetWaiting);
  counter('tenantgraph_registry_budget_waits_total', 'Times a connection had to wait for a budget slot.', (m) => m.budgetWaits);
  counter('tenantgraph_registry_budget_wait_seconds_total', 'Time spent waiting for budget slots by connections that got one.', (m) => m.budgetWaitMs / 1000);
  counter('tenantgraph_registry_database_busy_total', 'Waits that ended in DATABASE_BUSY (no slot within DB_ACQUIRE_TIMEOUT_MS).', (m) => m.busyErrors);
}
