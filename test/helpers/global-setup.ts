/**
 * Integration tests get a fresh database per run, cloned from a migrated template.
 *
 * PostgreSQL: TEST_DATABASE_URL, else DATABASE_URL, else an embedded server started here in a
 * temporary folder. Redis: REDIS_URL, else a `redis-server` on PATH started on a free port, else
 * tests that need Redis fail with a message saying so (they are never skipped).
 *
 * Child processes (the CLI suites, second servers) run the build in dist/ when it is current
 * (helpers/entry.ts): it is rebuilt here first when a source changed since the last build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type TestProject } from 'vitest/node';
import { build, buildIsCurrent } from '../../scripts/build.mjs';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres.js';
import { mapLimit } from '../../src/infra/map-limit.js';
import { migrateTemplate, templateFingerprint } from './template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh, migrated database for this run. */
    databaseUrl: string;
    /** The server's `postgres` database, for tests that create databases of their own. */
    adminDatabaseUrl: string;
    /** Unique per run: prefix for anything a test creates on the shared server. */
    runId: string;
    redisUrl: string | null;
    redisProblem: string | null;
    /** Tenant files of this run (STORAGE_DIR), removed afterwards. */
    storageDir: string;
  }
}

export default async function setup(project: TestProject) {
  ensureBuild();
  const cleanups: (() => Promise<void>)[] = [];
  // Short: it goes into database names (with a prefix) that must stay under 63 characters.
  const runId = `r${Math.random().toString(36).slice(2, 8).padEnd(6, "0")}`;

  let baseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  let embedded: EmbeddedPostgresHandle | undefined;
  if (!baseUrl) {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tenantgraph-test-pg-'));
    await chmod(dataDir, 0o755); // PostgreSQL runs as the `postgres` user, which must enter it
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: await freePort() });
    baseUrl = embedded.url;
    cleanups.push(async () => {
      await embedded!.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
  }
  const adminUrl = withDatabase(baseUrl, 'postgres');
  const template = `tg_template_${(await templateFingerprint()).slice(0, 12)}`;
  const testDb = `tg_test_${runId}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Serialise template creation between concurrent test runs on one server.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', ['tenantgraph:test-template']);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${template}"`);
      try {
        await migrateTemplate(withDatabase(baseUrl, template));
      } catch (error) {
        await admin.query(`DROP DATABASE "${template}"`);
        throw error;
      }
    }
    await admin.query(`CREATE DATABASE "${testDb}" TEMPLATE "${template}"`);
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', ['tenantgraph:test-template']);
  } finally {
    await admin.end();
  }
  cleanups.push(async () => {
    // Four at a time: a load run leaves hundreds of tenant databases, and a DROP DATABASE mostly
    // waits (measured here: 6 drops 1.1 s one after another, 0.3 s all at once).
    const pool = new pg.Pool({ connectionString: adminUrl, max: 4 });
    // pool.end() resolves before its connections' sockets have closed; an embedded server stopped
    // right after ends them with FATAL 57P01, which must not crash the run it is cleaning up after.
    pool.on('error', () => {});
    try {
      await pool.query(`DROP DATABASE IF EXISTS "${testDb}" WITH (FORCE)`);
      // Tenant databases made by tests carry the run id.
      const made = await pool.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`%${runId}%`]);
      await inParallel(made.rows.map((row) => row.datname), 4, (datname) => pool.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`));
      // Roles after the databases (a role that owns a database cannot be dropped).
      const roles = await pool.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`%${runId}%`]);
      await inParallel(roles.rows.map((row) => row.rolname), 4, (rolname) => pool.query(`DROP ROLE IF EXISTS "${rolname}"`));
    } finally {
      await pool.end();
    }
  });

  const storageDir = path.join(tmpdir(), `tenantgraph-test-storage-${runId}`);
  cleanups.push(() => rm(storageDir, { recursive: true, force: true }));

  const redis = await provideRedis();
  if (redis.stop) cleanups.push(redis.stop);

  project.provide('databaseUrl', withDatabase(baseUrl, testDb));
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('runId', runId);
  project.provide('redisUrl', redis.url);
  project.provide('redisProblem', redis.problem);
  project.provide('storageDir', storageDir);

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => process.stderr.write(`test cleanup failed: ${String(error)}\n`));
  };
}

/** Once per test run (both projects call setup): `npm run build` when dist/ is older than its inputs. */
function ensureBuild(): void {
  const state = globalThis as { tenantgraphTestBuild?: boolean };
  if (state.tenantgraphTestBuild || process.env.TEST_CHILD_RUNTIME === 'tsx' || buildIsCurrent()) return;
  state.tenantgraphTestBuild = true;
  const started = Date.now();
  process.stderr.write('test setup: dist/ is older than src/; building it for the child processes (npm run build)\n');
  if (build() === 0) {
    process.stderr.write(`test setup: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } else {
    process.stderr.write('test setup: the build failed (above); child processes run the sources through tsx instead\n');
  }
}

async function provideRedis(): Promise<{ url: string | null; problem: string | null; stop?: () => Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, problem: null };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', resolve);
    });
  } catch {
    return { url: null, problem: 'Redis is needed: set REDIS_URL or install redis-server (apt-get install redis-server).' };
  }
  await waitForPort(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    problem: null,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

/** Runs `work` on every item, `limit` at a time; every item is tried, then the first failure is thrown. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  const failures: unknown[] = [];
  await mapLimit(items, limit, (item) => work(item).catch((error: unknown) => failures.push(error)));
  if (failures.length > 0) throw failures[0];
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

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

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not open port ${port}`);
}

