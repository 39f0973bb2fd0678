/**
 * Issue 7, rows on outages and secrets, against a throwaway embedded PostgreSQL this file starts:
 * - the server runs with a password in DATABASE_URL (a role made here, scram-sha-256 auth);
 * - PostgreSQL is stopped and restarted under load (a DATABASE tenant, a SCHEMA tenant, the
 *   central database, unknown hosts, bad tokens): answers while it is down are
 *   DATABASE_UNAVAILABLE with 503 and Retry-After, never INTERNAL_SERVER_ERROR, and the server
 *   recovers by itself;
 * - every log line at trace level is kept, and none holds the password or a URL with it.
 * And Redis going away: requests are served without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres.js';
import { logCapture, startTestApp, type GqlResult, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const ROLE = 'tg_app';
/** `scheme://user:password@` with a password that is not our `***`. */
const URL_WITH_PASSWORD = /[a-z]+:\/\/[^\s:@/"\\]+:(?!\*\*\*@)[^\s@/"\\]+@/i;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codesOf = (result: GqlResult<unknown>) => (result.body.errors ?? []).map((error) => String(error.extensions?.code));

describe('PostgreSQL restarts under load, with a password in DATABASE_URL', () => {
  let folder: string;
  let dataDir: string;
  let port: number;
  let postgres: EmbeddedPostgresHandle | undefined;
  let app: TestApp;
  const logs = logCapture();
  let requests: { name: string; send: () => Promise<GqlResult<unknown>> }[];

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'tenantgraph-outage-pg-'));
    await chmod(folder, 0o755); // PostgreSQL runs as the `postgres` user, which must enter it
    dataDir = path.join(folder, 'data');
    port = await freePort();
    postgres = await startEmbeddedPostgres({ dataDir, port });
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB CREATEROLE PASSWORD '${PASSWORD}'`);
    await admin.end();

    app = await startTestApp({ DATABASE_URL: `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${port}/tg_central`, LOG_LEVEL: 'trace', DB_ACQUIRE_TIMEOUT_MS: '2000' }, { logger: logs.logger });
    const hierarchy = await makeHierarchy(app.tenancy, 1);
    const databaseClinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE');
    const schemaClinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
    const bearer = async (claims: Parameters<TestApp['token']>[0]) => ({ authorization: `Bearer ${await app.token(claims)}` });
    const databaseAdmin = await bearer({ subject: 'a', tenantId: databaseClinic.id, roles: ['admin'] });
    const schemaAdmin = await bearer({ subject: 'b', tenantId: schemaClinic.id, roles: ['admin'] });
    const systemAdmin = await bearer({ subject: 'root', roles: ['system_admin'] });
    const patients = '{ patients(first: 5) { edges { node { id visits { id } } } } }';
    requests = [
      { name: 'DATABASE tenant', send: () => app.gql(patients, {}, databaseAdmin) },
      { name: 'SCHEMA tenant', send: () => app.gql(patients, {}, schemaAdmin) },
      { name: 'central database', send: () => app.gql('{ tenants(first: 5) { edges { node { slug } } } }', {}, systemAdmin) },
      { name: 'write', send: () => app.gql(`mutation { createPatient(input: { mrn: "${randomBytes(6).toString('hex')}", firstName: "A", lastName: "B" }) { id } }`, {}, databaseAdmin) },
      // A host nobody looked up yet: the tenant directory must read the central database.
      { name: 'new host', send: () => app.gql('{ currentTenant { level } }', {}, { host: `nobody-${randomBytes(4).toString('hex')}.example` }) },
      { name: 'known host', send: () => app.gql('{ currentTenant { tenant { slug } } }', {}, { host: databaseClinic.domain }) },
      { name: 'bad token', send: () => app.gql('{ me { subject } }', {}, { authorization: 'Bearer not.a.token' }) },
      { name: 'health', send: () => app.gql('{ health { ready reason } }') },
    ];
  });

  afterAll(async () => {
    await app?.stop();
    await postgres?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After while it is down, recovers after, and never logs the password', async () => {
    // Warm: every kind of request works, pools hold connections.
    for (const request of requests) {
      const result = await request.send();
      if (request.name === 'bad token') expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
      else if (request.name === 'new host') expect(codesOf(result)).toEqual(['TENANT_NOT_FOUND']);
      else expect(result.body.errors, request.name).toBeUndefined();
    }

    const seen: { phase: string; name: string; status: number; codes: string[]; retryAfter: string | null }[] = [];
    let phase = 'up';
    let running = true;
    const workers = Array.from({ length: 6 }, async (_, worker) => {
      for (let i = worker; running; i++) {
        const request = requests[i % requests.length]!;
        const at = phase;
        try {
          const result = await request.send();
          seen.push({ phase: at, name: request.name, status: result.status, codes: codesOf(result), retryAfter: result.headers.get('retry-after') });
        } catch (error) {
          seen.push({ phase: at, name: request.name, status: 0, codes: [`socket error: ${String(error)}`], retryAfter: null });
        }
      }
    });

    await sleep(300);
    phase = 'stopping';
    await postgres!.stop();
    phase = 'down';
    await sleep(1500);
    phase = 'starting';
    postgres = await startEmbeddedPostgres({ dataDir, port });
    phase = 'restarted';
    await sleep(1000);
    running = false;
    await Promise.all(workers);

    // While down, every kind of database work answered the retryable code.
    const down = seen.filter((entry) => entry.phase === 'down');
    const unavailable = down.filter((entry) => entry.codes.includes('DATABASE_UNAVAILABLE'));
    expect(new Set(unavailable.map((entry) => entry.name))).toEqual(new Set(['DATABASE tenant', 'SCHEMA tenant', 'central database', 'write', 'new host']));
    for (const entry of unavailable) {
      expect(entry.status, JSON.stringify(entry)).toBe(503);
      expect(Number(entry.retryAfter)).toBeGreaterThan(0);
    }
    // At no moment an internal error or a dropped socket.
    const broken = seen.filter((entry) => entry.status === 500 || entry.status === 0 || entry.codes.includes('INTERNAL_SERVER_ERROR'));
    expect(broken, JSON.stringify(broken.slice(0, 5))).toEqual([]);

    // Back up: every kind of request works again without a restart of the server.
    for (const request of requests) {
      let result = await request.send();
      for (let attempt = 0; attempt < 50 && codesOf(result).includes('DATABASE_UNAVAILABLE'); attempt++) {
        await sleep(200);
        result = await request.send();
      }
      expect(codesOf(result), request.name).not.toContain('DATABASE_UNAVAILABLE');
      expect(codesOf(result), request.name).not.toContain('INTERNAL_SERVER_ERROR');
    }

    // The logs saw the outage (so the warn paths ran) and never the password.
    const text = logs.lines.join('');
    expect(text).toMatch(/database unavailable|connection lost/);
    expect(logs.lines.length).toBeGreaterThan(50);
    const leaking = logs.lines.filter((line) => line.includes(PASSWORD) || URL_WITH_PASSWORD.test(line));
    expect(leaking.slice(0, 3)).toEqual([]);
  });

  it('PostgreSQL down: a fresh request answers 503 DATABASE_UNAVAILABLE with Retry-After in milliseconds', async () => {
    await postgres!.stop();
    postgres = undefined;
    for (const request of requests.filter((entry) => ['DATABASE tenant', 'central database', 'new host'].includes(entry.name))) {
      const started = performance.now();
      const result = await request.send();
      expect(performance.now() - started, request.name).toBeLessThan(3000);
      expect(result.status, request.name).toBe(503);
      expect(result.headers.get('retry-after'), request.name).toBe('5');
      expect(result.body.errors?.[0]?.extensions, request.name).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 5 });
    }
    const health = await fetch(`${app.url}/health/ready`);
    expect(health.status).toBe(503);
    expect(logs.lines.some((line) => line.includes(PASSWORD))).toBe(false);
  });
});

describe('Redis goes away', () => {
  let redis: ChildProcess;
  let app: TestApp;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let attempt = 0; ; attempt++) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      if (open) break;
      if (attempt > 100) throw new Error('redis-server did not start (is it installed?)');
      await sleep(50);
    }
    app = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await app?.stop();
    redis?.kill('SIGKILL');
  });

  it('requests are served without it: tokens, hosts not cached yet, tenant data', async () => {
    const hierarchy = await makeHierarchy(app.tenancy, 1);
    const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
    const auth = { authorization: `Bearer ${await app.token({ subject: 'a', tenantId: clinic.id, roles: ['admin'] })}` };
    redis.kill('SIGKILL');
    await new Promise((resolve) => redis.once('exit', resolve));
    const started = performance.now();
    const patients = await app.gql('{ patients { edges { node { id } } } }', {}, auth);
    expect(patients.body.errors).toBeUndefined();
    const byHost = await app.gql<{ currentTenant: { tenant: { slug: string } } }>('{ currentTenant { tenant { slug } } }', {}, { host: clinic.domain });
    expect(byHost.body.data?.currentTenant.tenant.slug).toBe(clinic.slug);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
