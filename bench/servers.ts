/**
 * The three servers a scenario compares, each started as its own process:
 * - ours: the built tenantgraph (`node dist/src/main.js`), the whole pipeline;
 * - plain: Apollo Server 5 + one PrismaClient, no tenancy (bench/baselines/plain-apollo.ts);
 * - raw: node:http + pg, no GraphQL (bench/baselines/raw-floor.ts).
 */
import path from 'node:path';
import { baseProcessEnv, serverEnv, type BenchEnvironment } from './environment.js';
import { type BenchTenant } from './fixtures.js';
import { freePort, startServer, type ServerProcess } from './processes.js';

export type TargetName = 'ours' | 'plain' | 'raw';

/** Registry settings a run passes explicitly (so the report states them even when they are defaults). */
export type RegistryOverrides = { DB_MAX_CONNECTIONS: string; DB_POOL_MAX: string; DB_REGISTRY_MAX_CLIENTS: string; [name: string]: string };

export const DEFAULT_REGISTRY: RegistryOverrides = { DB_MAX_CONNECTIONS: '80', DB_POOL_MAX: '5', DB_REGISTRY_MAX_CLIENTS: '1000' };

/** Node flags that write a CPU profile on exit, or none. */
export function profileArgs(profileDir: string | undefined, name: string): string[] {
  return profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : [];
}

export async function startTenantgraph(bench: BenchEnvironment, root: string, overrides: RegistryOverrides, profileDir?: string): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'tenantgraph',
    args: [...profileArgs(profileDir, 'tenantgraph'), path.join(root, 'dist', 'src', 'main.js')],
    cwd: root,
    env: serverEnv(bench, port, overrides),
    port,
    ready: { path: '/health/ready' },
  });
}

export async function startBaseline(
  which: 'plain' | 'raw',
  bench: BenchEnvironment,
  root: string,
  tenant: BenchTenant,
  poolMax: number,
  profileDir?: string,
): Promise<ServerProcess> {
  const port = await freePort();
  const database = new URL(bench.databaseUrl);
  database.pathname = `/${tenant.databaseName}`;
  const script = which === 'plain' ? 'plain-apollo.ts' : 'raw-floor.ts';
  return startServer({
    name: which === 'plain' ? 'plain Apollo' : 'raw floor',
    // `node --import tsx` keeps it one process (the tsx CLI would add a parent process whose RSS we'd read).
    args: [...profileArgs(profileDir, which), '--import', 'tsx', path.join(root, 'bench', 'baselines', script)],
    cwd: root,
    env: {
      ...baseProcessEnv(),
      NODE_ENV: 'production',
      PORT: String(port),
      BENCH_TENANT_DATABASE_URL: database.toString(),
      BENCH_POOL_MAX: String(poolMax),
    },
    port,
    ready:
      which === 'plain'
        ? { path: '/graphql?query=%7B__typename%7D', headers: { 'apollo-require-preflight': 'true' } }
        : { path: '/health' },
  });
}
