/**
 * What a PostgreSQL backend start costs on this machine, without tenantgraph in the way: the bound
 * under the DATABASE scenarios whose requests wait for new connections (budget 80 and 20, and the
 * cold pass of budget 400). A fresh embedded PostgreSQL (as the budget-400 scenario starts) gets
 * N databases, each with its own login role and scram-sha-256 password, as DATABASE tenants have;
 * then, from this otherwise quiet process:
 *
 * - connects one at a time (latency of one backend start with authentication);
 * - opens one connection to each database, N at a time: the first connection to a database that
 *   has never had one (PostgreSQL builds its catalogue cache files for it), as in a cold pass;
 * - does it again, now that each database has had a connection: a backend start on a busy server,
 *   as the budget-80 and budget-20 scenarios pay on every turnover.
 *
 *   npx tsx bench/backend-start-cost.ts [--databases 40]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres.js';
import { quoteIdent } from '../src/infra/sql-names.js';
import { freePort } from './processes.js';

const at = process.argv.indexOf('--databases');
const databases = at > 0 ? Number(process.argv[at + 1]) : 40;
if (!Number.isInteger(databases) || databases < 1) {
  console.error('usage: npx tsx bench/backend-start-cost.ts [--databases N]');
  process.exit(2);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'tenantgraph-backend-start-'));
await chmod(dir, 0o755); // PostgreSQL runs as the `postgres` user, which must enter it
const port = await freePort();
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port, settings: { max_connections: String(databases + 20) } });
try {
  const names = Array.from({ length: databases }, (_, i) => ({ role: `bsc_role_${i}`, database: `bsc_db_${i}`, password: `bsc-${i}-${Math.random().toString(36).slice(2)}` }));
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  for (const { role, database, password } of names) {
    await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(role)}`);
  }
  await admin.end();
  const urlOf = (i: number) => `postgres://${names[i]!.role}:${names[i]!.password}@127.0.0.1:${port}/${names[i]!.database}`;

  /** Connects, runs one statement (the backend is ready only then), and answers the connect time in ms. */
  const connectOnce = async (url: string): Promise<{ ms: number; client: pg.Client }> => {
    const started = performance.now();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('SELECT 1');
    return { ms: performance.now() - started, client };
  };
  const summary = (label: string, times: number[], wallMs?: number) => {
    const sorted = [...times].sort((a, b) => a - b);
    const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
    const wall = wallMs === undefined ? '' : `, all ${times.length} in ${wallMs.toFixed(0)} ms (${((times.length * 1000) / wallMs).toFixed(0)} starts/s)`;
    console.log(`${label}: p50 ${pick(0.5)} ms, max ${pick(1)} ms${wall}`);
  };

  // One at a time, to a database that already had a connection (its catalogue cache files exist).
  const warmOne = await connectOnce(urlOf(0));
  await warmOne.client.end();
  const serial: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { ms, client } = await connectOnce(urlOf(0));
    serial.push(ms);
    await client.end();
  }
  summary('one at a time', serial);

  for (const label of ['first connection to each database, all at once', 'again, each database has had one']) {
    const started = performance.now();
    const opened = await Promise.all(names.map((_, i) => connectOnce(urlOf(i))));
    summary(`${label} (${databases})`, opened.map((o) => o.ms), performance.now() - started);
    await Promise.all(opened.map((o) => o.client.end()));
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
