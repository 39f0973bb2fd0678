/**
 * What a load run cannot see from its responses: connections held on the PostgreSQL server
 * (pg_stat_activity every 50 ms), the server process's memory (VmRSS every 100 ms) and CPU, and
 * how busy the whole machine was (the bench, PostgreSQL and the server share 2 cores).
 */
import pg from 'pg';
import { cpuBetween, snapshotCpu, type CpuShares } from './cpu-accounting.js';
import { type BenchEnvironment } from './environment.js';
import { readMachineCpu, readProcessCpuMs, readRss, socketPorts } from './processes.js';

/** application_name of the registry's tenant pools (src/tenancy/registry DEFAULT_APPLICATION_NAME). */
export const REGISTRY_APPLICATION_NAME = 'tenantgraph:tenant';
/** application_name the baselines set on their pools, so the sampler can tell them apart. */
export const BASELINE_APPLICATION_NAMES = ['bench:plain-apollo', 'bench:raw-floor'];

export type WindowStats = {
  seconds: number;
  /** Most registry connections to bench databases seen at once, of the server under test only (by client port). */
  peakRegistryConnections: number;
  /** Most baseline connections seen at once, per application_name. */
  peakBaselineConnections: Record<string, number>;
  /** Most client connections on the whole PostgreSQL server (other users included). */
  peakServerConnections: number;
  /** Distinct registry backends seen: a lower bound of connections used (one opened < 50 ms ago may be missed). */
  registryBackendsSeen: number;
  pgSamples: number;
  peakRssBytes: number | undefined;
  lastRssBytes: number | undefined;
  /** CPU the server process used in the window. */
  serverCpuMs: number | undefined;
  /** Share of all cores busy in the window (0..1), whoever used them. */
  machineBusy: number;
  /** Share of all cores' time the hypervisor gave to other VMs (0..1): this VM ran slower by that much. */
  machineSteal: number;
  /** Cores used per kind of process (server under test, bench, PostgreSQL for bench or others, …). */
  cpu: CpuShares;
};

type ActivityRow = { pid: number; started: string; application_name: string; datname: string | null; client_port: number | null };

/** One connection for the whole run; each window polls with it. */
export class PgActivitySampler {
  private constructor(
    private readonly client: pg.Client,
    private readonly bench: BenchEnvironment,
  ) {}

  static async open(bench: BenchEnvironment): Promise<PgActivitySampler> {
    const client = new pg.Client({ connectionString: bench.maintenanceUrl, application_name: 'bench:sampler' });
    await client.connect();
    return new PgActivitySampler(client, bench);
  }

  /** The registry and baseline backends now (by application_name, on bench databases only). */
  async activity(): Promise<ActivityRow[]> {
    const result = await this.client.query<ActivityRow>(
      `SELECT pid, backend_start::text AS started, application_name, datname, client_port FROM pg_stat_activity WHERE backend_type = 'client backend'`,
    );
    return result.rows;
  }

  /** Registry backends open now on bench databases (of any server process: sample between scenarios' servers only). */
  async registryConnections(): Promise<number> {
    const rows = await this.activity();
    return rows.filter((row) => row.application_name === REGISTRY_APPLICATION_NAME && this.isBenchDatabase(row.datname)).length;
  }

  /** The bench's own databases: central, shared tenants, and every `bench_*` tenant database. */
  isBenchDatabase(datname: string | null): boolean {
    return (
      datname !== null &&
      (datname === this.centralDatabase || datname === this.bench.sharedTenantsDatabase || datname.startsWith(this.bench.storagePrefix))
    );
  }

  private get centralDatabase(): string {
    return decodeURIComponent(new URL(this.bench.databaseUrl).pathname.slice(1));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/**
 * Starts sampling; `stop()` ends it and returns the figures. `pid` is the server under test
 * (for RSS and CPU); the sampler polls pg_stat_activity every `pgEveryMs`.
 */
export function startWindow(sampler: PgActivitySampler, pid: number | undefined, pgEveryMs = 50): { stop(): Promise<WindowStats> } {
  const started = performance.now();
  const cpuStart = readMachineCpu();
  const serverCpuStart = pid === undefined ? undefined : readProcessCpuMs(pid);
  const isBench = (name: string) => sampler.isBenchDatabase(name);
  const cpuSnapshot = snapshotCpu(pid, isBench);
  const stats = {
    peakRegistryConnections: 0,
    peakBaselineConnections: Object.fromEntries(BASELINE_APPLICATION_NAMES.map((name) => [name, 0])) as Record<string, number>,
    peakServerConnections: 0,
    pgSamples: 0,
    peakRssBytes: undefined as number | undefined,
    lastRssBytes: undefined as number | undefined,
  };
  const backends = new Set<string>();
  let running = true;
  // Registry connections are counted only when their client is the server under test: another
  // tenantgraph (another bench on the same databases, a developer's server) uses the same
  // application_name. Its ports are re-read only when an unknown port shows up.
  // Backends found to be another process's are remembered (by backend pid and start), not re-read.
  let serverPorts = pid === undefined ? new Set<number>() : socketPorts(pid);
  const foreign = new Set<string>();
  const isServers = (row: ActivityRow) => {
    if (pid === undefined || row.client_port === null || row.client_port < 0) return true; // -1: a Unix socket, no port to match
    if (serverPorts.has(row.client_port)) return true;
    const key = `${row.pid}@${row.started}`;
    if (foreign.has(key)) return false;
    serverPorts = socketPorts(pid);
    if (serverPorts.size === 0 || serverPorts.has(row.client_port)) return true; // /proc unreadable: count it, as before
    foreign.add(key);
    return false;
  };

  const sampleRss = () => {
    if (pid === undefined) return;
    const rss = readRss(pid);
    if (rss === undefined) return;
    stats.lastRssBytes = rss;
    stats.peakRssBytes = Math.max(stats.peakRssBytes ?? 0, rss);
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, 100);

  // setTimeout after each answer rather than setInterval: a slow answer never piles queries up.
  const pgLoop = (async () => {
    while (running) {
      const tick = performance.now();
      try {
        const rows = await sampler.activity();
        let registry = 0;
        const baseline: Record<string, number> = {};
        for (const row of rows) {
          if (row.application_name === REGISTRY_APPLICATION_NAME && sampler.isBenchDatabase(row.datname) && isServers(row)) {
            registry++;
            backends.add(`${row.pid}@${row.started}`);
          } else if (BASELINE_APPLICATION_NAMES.includes(row.application_name) && isServers(row)) {
            baseline[row.application_name] = (baseline[row.application_name] ?? 0) + 1;
          }
        }
        stats.peakRegistryConnections = Math.max(stats.peakRegistryConnections, registry);
        for (const [name, count] of Object.entries(baseline)) {
          stats.peakBaselineConnections[name] = Math.max(stats.peakBaselineConnections[name] ?? 0, count);
        }
        stats.peakServerConnections = Math.max(stats.peakServerConnections, rows.length);
        stats.pgSamples++;
      } catch {
        // A failed sample is skipped; pgSamples shows how many succeeded.
      }
      const wait = pgEveryMs - (performance.now() - tick);
      if (wait > 0 && running) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    async stop() {
      running = false;
      clearInterval(rssTimer);
      sampleRss();
      await pgLoop;
      const cpuEnd = readMachineCpu();
      const cpu = cpuBetween(cpuSnapshot, snapshotCpu(pid, isBench));
      const serverCpuEnd = pid === undefined ? undefined : readProcessCpuMs(pid);
      return {
        ...stats,
        seconds: (performance.now() - started) / 1000,
        registryBackendsSeen: backends.size,
        serverCpuMs: serverCpuStart === undefined || serverCpuEnd === undefined ? undefined : serverCpuEnd - serverCpuStart,
        machineBusy: (cpuEnd.busy - cpuStart.busy) / Math.max(1, cpuEnd.total - cpuStart.total),
        machineSteal: (cpuEnd.steal - cpuStart.steal) / Math.max(1, cpuEnd.total - cpuStart.total),
        cpu,
      };
    },
  };
}
