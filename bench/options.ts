/**
 * Command-line options and the sizes of a run. Everything that decides how long a run takes
 * lives here, so quick and full runs differ in one place only.
 */
import os from 'node:os';
import path from 'node:path';

export type Mode = 'quick' | 'full';

export type ScenarioName = 'hot' | 'churn-schema' | 'churn-database' | 'registry-churn' | 'schema-10k' | 'database-budget-400' | 'abuse';
export const SCENARIOS: readonly ScenarioName[] = ['hot', 'churn-schema', 'churn-database', 'registry-churn', 'schema-10k', 'database-budget-400', 'abuse'];

export type BenchOptions = {
  mode: Mode;
  /** Drop every bench database first and provision again. */
  fresh: boolean;
  /** Skip `npm run build` (only when dist/ is known to be current; for iterating on bench/). */
  build: boolean;
  scenarios: readonly ScenarioName[];
  /** Where the Markdown report goes. */
  out: string;
  /** Write V8 CPU profiles of every server under test into this folder (`--profile DIR`). */
  profileDir: string | undefined;
  /** The command line as typed, for the report. */
  command: string;
  sizes: RunSizes;
};

export type RunSizes = {
  /** Seconds of measured load per target and round. */
  durationS: number;
  /** Seconds of unmeasured load before each measurement (JIT, pools, caches). */
  warmupS: number;
  /**
   * Hot tenant: rounds of ours/plain/raw per session, order reversed every other round. Short
   * rounds rather than one long run each: this VM's speed drifts by tens of percent over minutes,
   * and back-to-back pairs cancel that drift.
   */
  hotRounds: number;
  /** Hot tenant: sets of fresh server processes, each measured for `hotRounds` rounds. */
  hotSessions: number;
  /** Seconds measured per server and round (hot tenant). */
  hotRoundS: number;
  /** Warm-up before every hot round after the first (the servers are warm by then; new sockets are not). */
  hotRewarmS: number;
  /** autocannon connections (concurrent requests in flight). */
  connections: number;
  schemaTenants: number;
  databaseTenants: number;
  /** Patients in the hot clinic (≥ 20 so `first: 20` returns a full page). */
  hotPatients: number;
  /**
   * Patients in each churn clinic: more than a page, so a churn request does the same work as a
   * hot one (20 rows) and the churn/hot throughput ratio compares like with like.
   */
  churnPatients: number;
  /** Tenants provisioned at once (each provisioning opens a few admin connections). */
  provisionParallelism: number;
  /** schema-10k: SCHEMA tenants (the first are churn-schema's, the rest made in bulk), uniform choice. */
  manySchemaTenants: number;
  /** SCHEMA tenants per transaction of the bulk path (bench/bulk-schema-tenants.ts). */
  bulkBatchSize: number;
  /** database-budget-400: DATABASE tenants on a second PostgreSQL, and the registry's budget (more than the tenants). */
  budgetDatabaseTenants: number;
  budgetConnections: number;
};

const SIZES: Record<Mode, RunSizes> = {
  // Quick must stay under 5 minutes even when it has to provision its tenants first.
  quick: {
    durationS: 4,
    warmupS: 1,
    hotSessions: 1,
    hotRounds: 2,
    hotRoundS: 3,
    hotRewarmS: 0.5,
    connections: 40,
    schemaTenants: 200,
    databaseTenants: 60,
    hotPatients: 50,
    churnPatients: 25,
    provisionParallelism: 4,
    manySchemaTenants: 1000,
    bulkBatchSize: 250,
    budgetDatabaseTenants: 100,
    budgetConnections: 400,
  },
  full: {
    durationS: 10,
    warmupS: 3,
    // The hot ratio is the headline and the noisiest figure: 4 sets of fresh processes × 2
    // back-to-back rounds, not one long run each.
    hotSessions: 4,
    hotRounds: 2,
    hotRoundS: 6,
    hotRewarmS: 1,
    connections: 40,
    schemaTenants: 1000,
    databaseTenants: 300,
    hotPatients: 50,
    churnPatients: 25,
    provisionParallelism: 4,
    manySchemaTenants: 10_000,
    bulkBatchSize: 250,
    budgetDatabaseTenants: 300,
    budgetConnections: 400,
  },
};

const USAGE = `usage: npm run bench -- [--quick] [--fresh] [--no-build] [--only LIST] [--profile DIR] [--out FILE]

  --quick          short runs, fewer tenants (200 SCHEMA, 60 DATABASE; schema-10k with 1,000,
                   database-budget-400 with 100); about 5 minutes
  --fresh          drop the bench databases (tg_bench, tg_bench_tenants, bench_*) and provision again
  --no-build       skip \`npm run build\` (dist/ must be current)
  --only LIST      comma-separated: hot, churn-schema, churn-database, registry-churn, schema-10k,
                   database-budget-400, abuse
  --profile DIR    write a V8 CPU profile of each server under test into DIR (read the profiles
                   with \`npx tsx bench/profile-summary.ts DIR/*.cpuprofile\`; the figures of such a run
                   are slowed by the profiler)
  --out FILE       the Markdown report; default docs/BENCHMARKS.md for a full run, and
                   ${path.join(os.tmpdir(), 'tenantgraph-bench-<mode>.md')} for --quick or --profile, so a
                   check never replaces the published full figures

environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tg_bench)
             BENCH_REDIS_URL (default redis://127.0.0.1:6379/1)
             BENCH_GRAPHQL_JIT (true|false: GRAPHQL_JIT of the tenantgraph servers; default: the server's default)
             BENCH_DB_POOL_ADAPTIVE (true|false: DB_POOL_ADAPTIVE of the tenantgraph servers)`;

export function parseOptions(argv: readonly string[], projectRoot: string): BenchOptions {
  let mode: Mode = 'full';
  let fresh = false;
  let build = true;
  let scenarios: readonly ScenarioName[] = SCENARIOS;
  let out: string | undefined;
  let profileDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--quick':
        mode = 'quick';
        break;
      case '--full':
        mode = 'full';
        break;
      case '--fresh':
        fresh = true;
        break;
      case '--no-build':
        build = false;
        break;
      case '--only': {
        const list = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = list.filter((name) => !SCENARIOS.includes(name as ScenarioName));
        if (list.length === 0 || unknown.length > 0) throw new UsageError(`--only: unknown scenario(s) ${unknown.join(', ') || '(none given)'}`);
        scenarios = SCENARIOS.filter((name) => list.includes(name));
        break;
      }
      case '--out':
        out = argv[++i];
        if (!out) throw new UsageError('--out needs a file name');
        break;
      case '--profile':
        profileDir = argv[++i];
        if (!profileDir) throw new UsageError('--profile needs a folder');
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  // Only a full, unprofiled run publishes to docs/: a quick or profiled run's figures are not comparable.
  const defaultOut =
    mode === 'full' && profileDir === undefined ? path.join(projectRoot, 'docs', 'BENCHMARKS.md') : path.join(os.tmpdir(), `tenantgraph-bench-${mode}.md`);
  return {
    mode,
    fresh,
    build,
    scenarios,
    out: path.resolve(out ?? defaultOut),
    profileDir: profileDir === undefined ? undefined : path.resolve(profileDir),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    sizes: SIZES[mode],
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly usage = USAGE;
}
