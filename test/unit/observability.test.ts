import { describe, expect, it } from 'vitest';
import { makeLogger } from '../../src/infra/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { watchThresholds } from '../../src/observability/thresholds.js';
import { TopTenants } from '../../src/observability/top-tenants.js';
import { type RegistryMetrics } from '../../src/tenancy/registry/registry-types.js';

const quietRegistry: RegistryMetrics = {
  clientHits: 0,
  clientMisses: 0,
  clientEvictions: 0,
  poolEvictions: 0,
  openPools: 0,
  openClients: 0,
  connections: 0,
  peakConnections: 0,
  budgetWaits: 0,
  budgetWaiting: 0,
  budgetWaitMs: 0,
  longestBudgetWaitMs: 0,
  busyErrors: 0,
  queries: 0,
};

function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = makeLogger('info', 'test', { destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('TopTenants', () => {
  it('keeps the busiest tenants in bounded memory, whatever the number of one-off tenants', () => {
    // Space-Saving keeps every tenant with more than (requests / capacity) requests: 5700 / 100 = 57.
    const top = new TopTenants(100);
    for (let i = 0; i < 500; i++) top.add('busy');
    for (let i = 0; i < 200; i++) top.add('second');
    for (let i = 0; i < 5000; i++) top.add(`one-off-${i}`);
    expect(top.size).toBe(100);
    expect(top.top(2).map(([tenant]) => tenant)).toEqual(['busy', 'second']);
  });
});

describe('createMetrics', () => {
  it('gives each app its own registry (two in one process do not collide)', async () => {
    const a = createMetrics({ registryMetrics: () => quietRegistry, tenantLabels: 0, defaultMetrics: false });
    const b = createMetrics({ registryMetrics: () => ({ ...quietRegistry, connections: 7 }), tenantLabels: 0, defaultMetrics: false });
    a.observeRequest({ operationType: 'query', level: 'TENANT', outcome: 'success', durationSeconds: 0.01, identifiedBy: 'token', tenantSlug: 'x', errorCodes: [] });
    expect(await a.render()).toMatch(/tenantgraph_graphql_request_duration_seconds_count\{operation_type="query",level="TENANT",outcome="success"\} 1/);
    expect(await b.render()).not.toMatch(/tenantgraph_graphql_request_duration_seconds_count\{/);
    expect(await b.render()).toMatch(/^tenantgraph_registry_connections 7$/m);
    expect(await a.render()).not.toContain('tenant="x"');
  });

  it('offers hooks for provisioning, migrations and jobs', async () => {
    const metrics = createMetrics({ registryMetrics: () => quietRegistry, tenantLabels: 0, defaultMetrics: false });
    metrics.observeProvisioning('SCHEMA', 'success', 1.2);
    metrics.observeMigration('tenant', 'failure', 0.3);
    metrics.setJobCounts(async () => [{ queue: 'email', state: 'failed', count: 2 }]);
    const text = await metrics.render();
    expect(text).toMatch(/tenantgraph_tenant_provisioning_duration_seconds_count\{isolation="SCHEMA",outcome="success"\} 1/);
    expect(text).toMatch(/tenantgraph_migration_duration_seconds_count\{target="tenant",outcome="failure"\} 1/);
    expect(text).toMatch(/tenantgraph_jobs\{queue="email",state="failed"\} 2/);
  });
});

describe('watchThresholds', () => {
  const limits = { warnAcquireMs: 100, warnRssBytes: 1000, warnPoolSaturation: 0.5, maxConnections: 10 };

  it('warns once a minute per threshold and counts every exceedance', async () => {
    const { logger, lines } = captured();
    const metrics = createMetrics({ registryMetrics: () => quietRegistry, tenantLabels: 0, defaultMetrics: false });
    let registry = quietRegistry;
    const watch = watchThresholds({ logger, metrics, registryMetrics: () => registry, limits, rss: () => 5000 });
    try {
      registry = { ...quietRegistry, connections: 6, budgetWaits: 4, budgetWaitMs: 2000 };
      watch.check();
      registry = { ...registry, budgetWaits: 5, busyErrors: 1 };
      watch.check();
      const warnings = lines.filter((line) => line.level === 40);
      expect(warnings.map((line) => line.threshold).sort()).toEqual(['memory', 'pool_saturation', 'slow_acquire']);
      expect(warnings.find((line) => line.threshold === 'slow_acquire')).toMatchObject({ averageWaitMs: 500, waits: 4 });
      const text = await metrics.render();
      expect(text).toMatch(/tenantgraph_threshold_exceeded_total\{threshold="memory"\} 2/);
      expect(text).toMatch(/tenantgraph_threshold_exceeded_total\{threshold="pool_saturation"\} 2/);
      expect(text).toMatch(/tenantgraph_threshold_exceeded_total\{threshold="slow_acquire"\} 2/);
    } finally {
      watch.stop();
    }
  });

  it('stays quiet below the thresholds', () => {
    const { logger, lines } = captured();
    const metrics = createMetrics({ registryMetrics: () => quietRegistry, tenantLabels: 0, defaultMetrics: false });
    const watch = watchThresholds({ logger, metrics, registryMetrics: () => ({ ...quietRegistry, connections: 2, budgetWaits: 3, budgetWaitMs: 30 }), limits, rss: () => 10 });
    watch.check();
    watch.stop();
    expect(lines).toEqual([]);
  });
});
