/** A tenantgraph server in a child process (a real second process, for cross-process behaviour). */
import { spawn, type ChildProcess } from 'node:child_process';
import { postJson, testEnv, type GqlResult } from './app.js';
import { scriptArgs } from './entry.js';

export type ServerProcess = {
  port: number;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  stop(): Promise<void>;
  /** SIGKILL: no shutdown code runs, as when the machine or the OOM killer ends it. */
  kill(): Promise<void>;
};

const SCRIPT = `
  const { startApp } = await import('./src/app.ts');
  const { parseConfig } = await import('./src/config.ts');
  const { makeLogger } = await import('./src/infra/logger.ts');
  const config = parseConfig(JSON.parse(process.env.TG_TEST_ENV));
  const app = await startApp(config, makeLogger(config.log.level), { auth: { throttleKeyPrefix: process.env.TG_THROTTLE_PREFIX } });
  process.stdout.write('PORT ' + app.port + '\\n');
  process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
`;

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, scriptArgs(SCRIPT), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TG_TEST_ENV: JSON.stringify({ ...testEnv(), MIGRATE_ON_START: 'false', ...env }),
      TG_THROTTLE_PREFIX: `tg:login:test:child:${process.pid}:${Date.now()}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server process did not start within 60 s: ${stderr}`)), 60_000);
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /PORT (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server process exited with ${code}: ${stderr}`));
    });
  });
  return {
    port,
    gql: (query, variables, headers = {}) => postJson(port, '/graphql', { query, variables }, headers),
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
