import { spawn } from 'node:child_process';
/**
 * `tenants:monitor` as the operator runs it (a separate process) against a running server: the
 * server's request rates and errors from /metrics, and the installation's PostgreSQL connections
 * mapped back to tenants, one JSON line per sample, then a summary.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitorSample, type MonitorSummary } from '../../src/cli/monitor/monitor-loop.js';
import { type ServerUnavailable, type ServerView } from '../../src/cli/monitor/server-metrics.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';
import { nodeArgs } from '../helpers/entry.js';

const METRICS_TOKEN = 'monitor-test-metrics-token-0123456789';

let app: TestApp;
let clinic: ProvisionedTenant;
let token: string;


type Line = (MonitorSample | MonitorSummary) & { type: string };
const jsonLines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Line);

beforeAll(async () => {
  app = await startTestApp({ METRICS_TOKEN });
  const { groups } = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, groups[0]!, 'DATABASE', { prefix: 'mon' });
  token = await app.token({ subject: 'monitor-admin', tenantId: clinic.id, roles: ['admin'] });
}, 60_000);
afterAll(() => app?.stop());

describe('tenants:monitor', () => {
  it('prints 2 samples and a summary with request rates, errors, pools and connections by tenant', async () => {
    // Traffic during the run: successes, and NOT_FOUND errors.
    let traffic = true;
    let sent = 0;
    const load = (async () => {
      while (traffic) {
        await app.gql('{ patients { edges { node { id } } } }', {}, { authorization: `Bearer ${token}` });
        await app.gql('query($id: ID!) { patient(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' }, { authorization: `Bearer ${token}` });
        sent += 2;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // A long statement in the clinic's database, under a name of its own.
    const databaseUrl = new URL(testEnv().DATABASE_URL!);
    databaseUrl.pathname = `/${clinic.databaseName!}`;
    const sleeper = new pg.Client({ connectionString: databaseUrl.toString(), application_name: 'monitor-test-sleeper' });
    await sleeper.connect();
    const pid = (await sleeper.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sleeping = sleeper.query('SELECT pg_sleep(60)').catch(() => undefined); // cancelled below
    try {
      const run = await runCli(['tenants:monitor', '--interval', '1', '--duration', '2', '--format', 'json', '--url', app.url, '--metrics-token', METRICS_TOKEN]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = jsonLines(run.stdout);
      expect(lines.map((line) => line.type)).toEqual(['sample', 'sample', 'summary']);
      const samples = lines.slice(0, 2) as MonitorSample[];
      expect(samples.map((s) => s.sample)).toEqual([1, 2]);
      const viewOf = (sample: MonitorSample) => sample.metrics as ServerView;
      for (const sample of samples) {
        const metrics = viewOf(sample);
        expect(sample.intervalSeconds).toBe(1);
        expect(Number.isNaN(Date.parse(sample.at))).toBe(false);
        expect(sample.metrics).toMatchObject({ available: true, url: app.url });
        expect(Object.keys(metrics.requests).sort()).toEqual(['avgMs', 'clientErrors', 'p95Ms', 'perSecond', 'serverErrors', 'success', 'total']);
        expect(metrics.requests.total).toBeGreaterThan(0);
        expect(metrics.requests.perSecond).toBeGreaterThan(0);
        expect(metrics.requests.clientErrors).toBeGreaterThan(0);
        expect(metrics.errors.NOT_FOUND).toBeGreaterThan(0);
        expect(metrics.pools.openPools).toBeGreaterThanOrEqual(1);
        expect(metrics.pools).toHaveProperty('connections');
        expect(metrics.memoryMb).toBeGreaterThan(0);

        const { connections, databases, slowest } = sample.database;
        expect(connections.total).toBeGreaterThan(0);
        expect(connections.maxConnections).toBeGreaterThan(0);
        const central = databases.find((d) => d.role === 'central');
        expect(central!.applications['tenantgraph:central']).toBeGreaterThan(0);
        // The clinic's database is named by its slug, with the server's pool and our sleeper in it.
        const own = databases.find((d) => d.database === clinic.databaseName);
        expect(own).toMatchObject({ role: 'tenant', tenant: clinic.slug, level: 'TENANT' });
        expect(own!.applications['monitor-test-sleeper']).toBe(1);
        expect(own!.active).toBeGreaterThanOrEqual(1);
        expect(slowest[0]).toMatchObject({ database: clinic.databaseName, tenant: clinic.slug });
        expect(slowest[0]!.runningMs).toBeGreaterThan(0);
        // Only this installation's databases: nothing of other test runs on the shared server.
        const prefix = testEnv().TENANT_DATABASE_PREFIX!;
        for (const entry of databases) if (entry.role === 'tenant') expect(entry.database.startsWith(prefix)).toBe(true);
        // No statement text is ever shown.
        expect(JSON.stringify(sample)).not.toContain('pg_sleep');
      }
      const summary = lines[2] as MonitorSummary;
      expect(summary).toMatchObject({ samples: 2, metricsAvailable: true });
      expect(summary.requests.total).toBe(viewOf(samples[0]!).requests.total + viewOf(samples[1]!).requests.total);
      expect(summary.requests.total).toBeLessThanOrEqual(sent + 2);
      expect(summary.errors.NOT_FOUND).toBeGreaterThan(0);
      expect(summary.slowest).toMatchObject({ tenant: clinic.slug });
    } finally {
      traffic = false;
      await load;
      await app.tenancy.central.query('SELECT pg_cancel_backend($1)', [pid]);
      await sleeping;
      await sleeper.end();
    }
  }, 60_000);

  it('prints tables by default', async () => {
    const run = await runCli(['tenants:monitor', '--interval', '1', '--duration', '1', '--url', app.url, '--metrics-token', METRICS_TOKEN]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('sample 1');
    expect(run.stdout).toContain('req/s');
    expect(run.stdout).toContain('(central)');
    expect(run.stdout).toContain('summary');
    expect(run.stdout, 'no colour codes when piped').not.toContain('\u001b[');
  }, 30_000);

  it('without a server it shows the database view and says metrics are unavailable', async () => {
    const run = await runCli(['tenants:monitor', '--interval', '1', '--duration', '1', '--format', 'json'], { PORT: '1' });
    expect(run.code).toBe(0);
    const [sample, summary] = jsonLines(run.stdout) as [MonitorSample, MonitorSummary];
    expect(sample.metrics).toMatchObject({ available: false, url: 'http://localhost:1' });
    expect((sample.metrics as ServerUnavailable).reason).toMatch(/cannot reach the tenantgraph server at http:\/\/localhost:1\/metrics/);
    expect(sample.database.connections.total).toBeGreaterThan(0);
    expect(summary).toMatchObject({ type: 'summary', metricsAvailable: false });
  }, 30_000);

  it('without --duration runs until interrupted, then prints the summary and exits 0', async () => {
    const child = spawn(process.execPath, nodeArgs('src/cli/main.ts', 'tenants:monitor', '--interval', '1', '--format', 'json', '--url', app.url, '--metrics-token', METRICS_TOKEN), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv(), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // Once: a second Ctrl-C ends the process at once, as it should.
      if (!interrupted && stdout.includes('"type":"sample"')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', metricsAvailable: true });
    expect((lines.at(-1) as MonitorSummary).samples).toBe(lines.length - 1);
  }, 30_000);

  it('exits 1 with a clear message when the server named by --url cannot be reached or refuses the token', async () => {
    const down = await runCli(['tenants:monitor', '--interval', '1', '--duration', '1', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach the tenantgraph server at http://127.0.0.1:1/metrics');
    expect(down.stdout).toBe('');
    const noToken = await runCli(['tenants:monitor', '--interval', '1', '--duration', '1', '--url', app.url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/wants a bearer token: pass --metrics-token or set METRICS_TOKEN/);
  }, 30_000);

  it('exits 2 on bad usage', async () => {
    for (const args of [['--interval', '0'], ['--format', 'xml'], ['--url', 'ftp://x'], ['--interval', '5', '--duration', '2']]) {
      const run = await runCli(['tenants:monitor', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/error|expected|must/);
    }
  }, 60_000);
});
