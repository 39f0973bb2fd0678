/**
 * Access log and /metrics over real HTTP: one access line per request naming its tenant and
 * operation and never a secret; /metrics guarded by METRICS_TOKEN, in valid exposition format,
 * with the request, identification, registry and Node series, and no tenant id in any label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let app: TestApp;
let lines: Record<string, unknown>[];
let clinic: Awaited<ReturnType<typeof makeClinic>>;
let token: string;

beforeAll(async () => {
  const captured = capturingLogger('info');
  lines = captured.lines;
  app = await startTestApp({ LOG_LEVEL: 'info', METRICS_TOKEN, METRICS_TENANT_LABELS: '3' }, { logger: captured.logger });
  const hierarchy = await makeHierarchy(app.tenancy);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
  token = await app.token({ subject: 'user-observability', tenantId: clinic.id, roles: ['admin'] });
});
afterAll(() => app?.stop());

const accessLines = (requestId: string) => lines.filter((line) => line.msg === 'request' && line.requestId === requestId);

describe('access log', () => {
  it('writes one line per GraphQL request with operation, tenant, principal, status and duration', async () => {
    const result = await app.gql('query ListPatients { patients(first: 1) { edges { node { id } } } }', {}, { authorization: `Bearer ${token}`, 'x-request-id': 'obs-ok-1' });
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    const found = accessLines('obs-ok-1');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'ListPatients',
      operationType: 'query',
      tenantId: clinic.id,
      tenant: clinic.slug,
      tenantLevel: 'TENANT',
      principal: 'user',
      identifiedBy: 'token',
    });
    expect(typeof found[0]!.durationMs).toBe('number');
    expect(found[0]).not.toHaveProperty('errorCodes');
  });

  it('names the error codes of refused requests, and never logs a token, header or variable', async () => {
    const badToken = `${token.slice(0, -4)}AAAA`;
    const refused = await app.gql('mutation Secret($input: CreatePatientInput!) { createPatient(input: $input) { id } }', { input: { mrn: 'SECRET-MRN-42', firstName: 'A', lastName: 'B' } }, {
      authorization: `Bearer ${badToken}`,
      'x-request-id': 'obs-refused-1',
    });
    expect(refused.status).toBe(401);
    const found = accessLines('obs-refused-1');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ status: 401, errorCodes: ['UNAUTHENTICATED'], path: '/graphql' });
    // Identification failed: no tenant, no principal.
    expect(found[0]).not.toHaveProperty('tenantId');

    const notJson = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'obs-bad-json' }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(accessLines('obs-bad-json')[0]).toMatchObject({ status: 400, errorCodes: ['BAD_REQUEST'] });

    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(badToken.slice(-40));
    expect(everything).not.toContain('SECRET-MRN-42');
    expect(everything.toLowerCase()).not.toContain('authorization');
  });

  it('logs health probes at debug only (they arrive every few seconds)', async () => {
    const response = await fetch(`${app.url}/health/live`, { headers: { 'x-request-id': 'obs-health-1' } });
    expect(response.status).toBe(200);
    expect(accessLines('obs-health-1')).toHaveLength(0);
  });
});

/**
 * Strict reading of the text exposition format: every sample belongs to a declared family.
 * (prom-client has no parser of its own; NaN is read case-insensitively, as Prometheus does.)
 */
function parseExposition(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let match = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (match) {
      helps.add(match[1]!);
      continue;
    }
    match = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (match) {
      types.set(match[1]!, match[2]!);
      continue;
    }
    match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|\+Inf|-Inf)$/.exec(line);
    expect(match, `a valid sample line: ${line}`).not.toBeNull();
    const [, name, rawLabels, value] = match!;
    const labels: Record<string, string> = {};
    for (const pair of rawLabels ? rawLabels.match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [] : []) {
      const at = pair.indexOf('=');
      labels[pair.slice(0, at)] = JSON.parse(pair.slice(at + 1)) as string;
    }
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(name!) || types.has(family), `# TYPE for ${name}`).toBe(true);
    expect(helps.has(name!) || helps.has(family), `# HELP for ${name}`).toBe(true);
    samples.push({ name: name!, labels, value: Number(value) });
  }
  return { types, samples };
}

describe('/metrics', () => {
  it('wants the METRICS_TOKEN bearer', async () => {
    const anonymous = await fetch(`${app.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}x` } });
    expect(wrong.status).toBe(401);
  });

  it('exposes request, identification, error, registry, threshold and Node series, with no tenant id in any label', async () => {
    for (let i = 0; i < 3; i++) await app.gql('{ currentTenant { level } }', {}, { authorization: `Bearer ${token}` });
    await app.gql('{ __typename }');
    const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const { types, samples } = parseExposition(text);
    const sample = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));

    expect(types.get('tenantgraph_graphql_request_duration_seconds')).toBe('histogram');
    expect(sample('tenantgraph_graphql_request_duration_seconds_count', { operation_type: 'query', level: 'TENANT', outcome: 'success' })!.value).toBeGreaterThanOrEqual(4);
    expect(sample('tenantgraph_graphql_request_duration_seconds_count', { operation_type: 'query', level: 'CENTRAL', outcome: 'success' })!.value).toBeGreaterThanOrEqual(1);
    // The refused request of the access log test: no operation resolved, identification failed.
    expect(sample('tenantgraph_graphql_request_duration_seconds_count', { operation_type: 'none', level: 'none', outcome: 'client_error' })!.value).toBeGreaterThanOrEqual(1);
    expect(sample('tenantgraph_identifications_total', { source: 'token' })!.value).toBeGreaterThanOrEqual(4);
    expect(sample('tenantgraph_identifications_total', { source: 'none' })).toBeDefined();
    expect(sample('tenantgraph_graphql_errors_total', { code: 'UNAUTHENTICATED' })!.value).toBeGreaterThanOrEqual(1);

    const registry = app.tenancy.registry.metrics();
    // The patients query leased the clinic's client: read from the registry at scrape time.
    expect(sample('tenantgraph_registry_client_misses_total')!.value).toBeGreaterThanOrEqual(1);
    expect(sample('tenantgraph_registry_client_misses_total')!.value).toBe(registry.clientMisses);
    expect(sample('tenantgraph_registry_client_hits_total')!.value).toBe(registry.clientHits);
    for (const name of [
      'tenantgraph_registry_client_evictions_total',
      'tenantgraph_registry_pool_evictions_total',
      'tenantgraph_registry_open_clients',
      'tenantgraph_registry_open_pools',
      'tenantgraph_registry_connections',
      'tenantgraph_registry_budget_waits_total',
      'tenantgraph_registry_budget_waiting',
      'tenantgraph_registry_database_busy_total',
      'tenantgraph_threshold_exceeded_total',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(sample(name), name).toBeDefined();
    }
    expect(sample('tenantgraph_threshold_exceeded_total', { threshold: 'slow_acquire' })).toBeDefined();

    // Opt-in top-N: the busiest tenants by slug, and nothing else names a tenant.
    expect(sample('tenantgraph_top_tenant_requests', { tenant: clinic.slug })!.value).toBeGreaterThanOrEqual(4);
    const labelled = samples.filter((s) => Object.values(s.labels).includes(clinic.slug)).map((s) => s.name);
    expect([...new Set(labelled)]).toEqual(['tenantgraph_top_tenant_requests']);
    expect(text).not.toContain(clinic.id);
  });

  it('is off the GraphQL path: scraping adds no GraphQL request', async () => {
    const read = async () => {
      const text = await (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      return parseExposition(text)
        .samples.filter((s) => s.name === 'tenantgraph_graphql_request_duration_seconds_count')
        .reduce((sum, s) => sum + s.value, 0);
    };
    const before = await read();
    expect(await read()).toBe(before);
  });
});

describe('/metrics without METRICS_TOKEN and without tenant labels', () => {
  let open: TestApp;
  beforeAll(async () => {
    open = await startTestApp();
  });
  afterAll(() => open?.stop());

  it('answers without a token and labels no tenant', async () => {
    await open.gql('{ __typename }', {}, { authorization: `Bearer ${token}` }).catch(() => undefined);
    const response = await fetch(`${open.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('tenantgraph_top_tenant_requests');
    expect(text).not.toContain(clinic.slug);
  });
});
