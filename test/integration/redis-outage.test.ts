/**
 * Redis stopped mid-load: the server runs against a throwaway `redis-server` this test starts,
 * requests keep coming, Redis is killed, then started again on the same port. Requests must keep
 * succeeding throughout (served from PostgreSQL), /health/ready must say degraded (200) while
 * Redis is away and ready again once it is back, and the outage is logged once, not per call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/processes.js';
import { startApp, type RunningApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { mintAccessToken } from '../../src/tenancy/identification/access-tokens.js';
import { postJson, testEnv } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

const QUERY = '{ patients { edges { node { id } } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server of our own (no persistence) on `port`; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`Cannot start redis-server (install it, e.g. apt-get install redis-server): ${error.message}`)));
    child.once('spawn', resolve);
  });
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return child;
    await sleep(50);
  }
  throw new Error(`redis-server did not open port ${port}`);
}

async function stopRedis(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const logLines: { msg?: string; level?: number }[] = [];
let redisPort: number;
let redisServer: ChildProcess | undefined;
let app: RunningApp;
let hot: ProvisionedTenant;
let cold: ProvisionedTenant;
const tokens = new Map<string, string>();

beforeAll(async () => {
  redisPort = await freePort();
  redisServer = await startRedis(redisPort);
  const config = parseConfig({ ...testEnv(), REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'info' });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as { msg?: string });
      done();
    },
  });
  app = await startApp(config, pino({ level: 'info' }, sink));
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  hot = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  cold = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  for (const clinic of [hot, cold]) tokens.set(clinic.id, await mintAccessToken(app.tokens, { subject: `u-${clinic.key}`, tenantId: clinic.id, roles: ['admin'] }));
}, 120_000);

afterAll(async () => {
  // Redis up again (if a failure left it down) so that shutdown does not wait on reconnects.
  if (!redisServer || redisServer.exitCode !== null || redisServer.signalCode !== null) redisServer = await startRedis(redisPort).catch(() => undefined);
  await app?.stop();
  await stopRedis(redisServer, 'SIGTERM');
});

async function ask(clinic: ProvisionedTenant): Promise<{ status: number; code: unknown }> {
  const response = await postJson(app.port, '/graphql', { query: QUERY }, { authorization: `Bearer ${tokens.get(clinic.id)!}` });
  return { status: response.status, code: response.body.errors?.[0]?.extensions?.code ?? null };
}

async function readiness(): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

describe('Redis stopped mid-load', () => {
  it('requests keep succeeding, readiness says degraded, and everything recovers when Redis returns', async () => {
    expect(await readiness()).toEqual({ status: 200, body: { status: 'ready' } });
    const cache = app.cache.forTenant(hot.id);
    let cacheLoads = 0;
    const results: { ok: boolean; detail: string }[] = [];
    let running = true;
    // Four clients, each a request to the hot clinic then a cached read-through, back to back.
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const answer = await ask(hot);
          results.push({ ok: answer.status === 200 && answer.code === null, detail: JSON.stringify(answer) });
          const value = await cache.getOrSet('dashboard', 60_000, async () => {
            cacheLoads++;
            return { patients: 0 };
          });
          results.push({ ok: value.patients === 0, detail: JSON.stringify(value) });
        } catch (error) {
          results.push({ ok: false, detail: String(error) });
        }
      }
    });
    try {
      await sleep(500);
      const loadsWhileUp = cacheLoads;
      expect(loadsWhileUp).toBeLessThanOrEqual(1); // the cache serves while Redis is up

      await stopRedis(redisServer);
      const downAt = results.length;
      await sleep(300);
      const degraded = await readiness();
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.reason).toMatch(/Redis/);
      // A tenant this process never saw is found in PostgreSQL.
      expect(await ask(cold)).toEqual({ status: 200, code: null });
      // A tenancy event while Redis is away still reaches this process.
      await app.tenancy.events.publish({ type: 'TenantUpdated', tenantId: cold.id });
      expect(await ask(cold)).toEqual({ status: 200, code: null });
      await sleep(1_000);
      expect(results.length - downAt).toBeGreaterThan(20); // kept serving
      expect(cacheLoads).toBeGreaterThan(loadsWhileUp); // reads missed: loaded from the source

      redisServer = await startRedis(redisPort);
      const started = performance.now();
      let back = await readiness();
      while (back.body.status !== 'ready' && performance.now() - started < 10_000) {
        await sleep(100);
        back = await readiness();
      }
      expect(back).toEqual({ status: 200, body: { status: 'ready' } });
      // The cache is shared again: a value written now is read back from Redis.
      await app.cache.forTenant(cold.id).set('after', 'recovered');
      expect(await app.cache.forTenant(cold.id).get('after')).toBe('recovered');
      await sleep(300);
    } finally {
      running = false;
      await Promise.all(clients);
    }
    const failures = results.filter((result) => !result.ok);
    expect(failures, failures.slice(0, 3).map((failure) => failure.detail).join('\n')).toEqual([]);
    expect(results.length).toBeGreaterThan(100);

    // Logged once per outage, not per call: hundreds of cache calls missed meanwhile.
    const cacheDown = logLines.filter((line) => line.msg?.startsWith('Redis unavailable: tenant cache'));
    const cacheBack = logLines.filter((line) => line.msg?.startsWith('Redis available again: tenant cache'));
    expect(cacheDown).toHaveLength(1);
    expect(cacheBack).toHaveLength(1);
    // Events published while the subscriber was away are lost: on reconnect, cached tenant state was dropped.
    expect(logLines.filter((line) => line.msg?.startsWith('tenancy events subscriber reconnected'))).toHaveLength(1);
  });
});
