/** The monitor's reading of /metrics: a strict exposition parser, and rates between two readings. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { ExpositionError, parseExposition } from '../../src/observability/exposition.js';
import { readingOf, serverView } from '../../src/cli/monitor/server-metrics.js';

const registryMetrics = () => ({
  clientHits: 5, clientMisses: 1, clientEvictions: 0, poolEvictions: 0, openClients: 2, openPools: 3, connections: 4,
  peakConnections: 6, budgetWaiting: 0, budgetWaits: 1, budgetWaitMs: 20, busyErrors: 0,
}) as never;

describe('parseExposition', () => {
  it("reads prom-client's own output, labels with escapes included", async () => {
    const metrics = createMetrics({ registryMetrics, tenantLabels: 0, defaultMetrics: true });
    metrics.observeRequest({ operationType: 'query', level: 'TENANT', outcome: 'client_error', durationSeconds: 0.02, identifiedBy: 'token', tenantSlug: undefined, errorCodes: ['NOT_FOUND'] });
    const parsed = parseExposition(await metrics.render());
    expect(parsed.types.get('tenantgraph_graphql_request_duration_seconds')).toBe('histogram');
    expect(parsed.samples.find((s) => s.name === 'tenantgraph_graphql_errors_total')).toEqual({ name: 'tenantgraph_graphql_errors_total', labels: { code: 'NOT_FOUND' }, value: 1 });
    expect(parseExposition('# TYPE x gauge\nx{a="q\\"uote",b="back\\\\slash"} 1.5e3\n').samples).toEqual([{ name: 'x', labels: { a: 'q"uote', b: 'back\\slash' }, value: 1500 }]);
  });

  it('refuses samples without a # TYPE, malformed labels and non-numbers', () => {
    expect(() => parseExposition('y 1\n')).toThrow(ExpositionError);
    expect(() => parseExposition('# TYPE x gauge\nx{a=1} 1\n')).toThrow(/malformed labels/);
    expect(() => parseExposition('# TYPE x gauge\nx one\n')).toThrow(/not a number/);
    expect(() => parseExposition('<html>not found</html>\n')).toThrow(/not a sample/);
  });
});

describe('serverView', () => {
  it('turns two readings into rates, errors and a p95 bucket for the interval', async () => {
    const metrics = createMetrics({ registryMetrics, tenantLabels: 0, defaultMetrics: false });
    const observe = (outcome: 'success' | 'client_error', seconds: number, codes: string[] = []) =>
      metrics.observeRequest({ operationType: 'query', level: 'TENANT', outcome, durationSeconds: seconds, identifiedBy: 'token', tenantSlug: undefined, errorCodes: codes });
    observe('success', 3);
    const before = readingOf(parseExposition(await metrics.render()), 0);
    for (let i = 0; i < 19; i++) observe('success', 0.004);
    observe('client_error', 0.2, ['FORBIDDEN']);
    const after = readingOf(parseExposition(await metrics.render()), 2_000);
    const view = serverView('http://x', before, after);
    expect(view.requests).toEqual({ total: 20, perSecond: 10, success: 19, clientErrors: 1, serverErrors: 0, avgMs: expect.closeTo(13.8, 1) as number, p95Ms: 5 });
    expect(view.errors).toEqual({ FORBIDDEN: 1 });
    expect(view.pools).toMatchObject({ openPools: 3, openClients: 2, connections: 4 });
    // A server restart (counters went down) counts the new process from zero, never negative.
    expect(serverView('http://x', after, readingOf(parseExposition(await createMetrics({ registryMetrics, tenantLabels: 0, defaultMetrics: false }).render()), 4_000)).requests.total).toBe(0);
  });
});
