import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { uniqueName } from '../helpers/database.js';
import { nodeArgs } from '../helpers/entry.js';

/** Runs `src/main.ts` as `npm start` would, with the given environment; resolves on exit. */
function runMain(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs('src/main.ts'), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const adminPool = new pg.Pool({ connectionString: inject('adminDatabaseUrl'), max: 1 });
afterAll(() => adminPool.end());

describe('start-up failures exit 1 with one clear line', () => {
  it('a malformed DATABASE_URL', async () => {
    const { code, output } = await runMain({ DATABASE_URL: 'not a url' });
    expect(code).toBe(1);
    expect(output).toMatch(/Invalid configuration: DATABASE_URL: expected a URL like postgres:\/\//);
  });

  it('production without DATABASE_URL (no silent embedded PostgreSQL in a container)', async () => {
    const { code, output } = await runMain({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`, PORT: '0' });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      'Invalid configuration: DATABASE_URL: required when NODE_ENV=production (the embedded PostgreSQL keeps its data in a local folder a container loses). Fix DATABASE_URL in the environment or .env, or set EMBEDDED_POSTGRES=true to run it anyway.',
    ]);
  });

  it('an unreachable database', async () => {
    const { code, output } = await runMain({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/central', PORT: '0' });
    expect(code).toBe(1);
    expect(output).toMatch(/Cannot use PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/central: .*ECONNREFUSED/);
  });

  it('a port already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = String((blocker.address() as { port: number }).port);
    try {
      const { code, output } = await runMain({ DATABASE_URL: inject('databaseUrl'), PORT: port, HOST: '127.0.0.1' });
      expect(code).toBe(1);
      expect(output).toContain(`Port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('database bootstrap', () => {
  it('creates a missing central database, migrates it, and is ready', async () => {
    const name = uniqueName('tg_central');
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${name}`;
    const app = await startTestApp({ DATABASE_URL: url.toString() });
    try {
      expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
    } finally {
      await app.stop();
      await adminPool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });

  it('is not ready (503 with a reason) while central migrations are pending', async () => {
    const name = uniqueName('tg_central');
    await adminPool.query(`CREATE DATABASE "${name}"`);
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${name}`;
    const app = await startTestApp({ DATABASE_URL: url.toString(), MIGRATE_ON_START: 'false' });
    try {
      const response = await fetch(`${app.url}/health/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'not_ready', reason: expect.stringContaining('0001_central_model.sql') });
      expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
    } finally {
      await app.stop();
      await adminPool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
});
