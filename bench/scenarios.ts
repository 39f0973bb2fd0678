/**
 * The scenarios. Each starts its servers as fresh processes (so memory and pools start empty),
 * checks that they answer correctly, loads them with autocannon from this process while the
 * samplers watch PostgreSQL and the server's memory, and stops them.
 */
import { CPU_CATEGORIES, type CpuShares } from './cpu-accounting.js';
import { type BenchEnvironment } from './environment.js';
import { type BenchTenant, type Fixtures } from './fixtures.js';
import { mergeResults, PATIENTS_BODY, runLoad, type LoadResult } from './load.js';
import { type RunSizes } from './options.js';
import { readRss, type ServerProcess } from './processes.js';
import { BASELINE_APPLICATION_NAMES, startWindow, type PgActivitySampler, type WindowStats } from './samplers.js';
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
  options: { label: string; isolation: 'SCHEMA' | 'DATABASE'; tenants: readonly BenchTenant[]; registry: RegistryOverrides },
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

    progress(`${options.label}: cold pass, one request per tenant`);
    const cold = await measure(ctx, server, {
      label: `${options.label} cold`,
      url: server.url,
      headerSets,
      spread: 'sequential',
      amount: tenants.length,
      connections: Math.min(sizes.connections, tenants.length),
    });
    await runLoad({ label: `${options.label} warm-up`, url: server.url, headerSets, spread: 'random', connections: sizes.connections, durationS: sizes.warmupS });
    const measured = await measure(ctx, server, { label: options.label, url: server.url, headerSets, spread: 'random', durationS: sizes.durationS });
    return { label: options.label, isolation: options.isolation, tenants: tenants.length, registry: options.registry, rssAfterStartBytes, cold, measured };
  } finally {
    await server.stop();
    // Closed backends leave pg_stat_activity within moments; the next scenario starts clean.
    await sleep(500);
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
  spec: { label: string; url: string; headerSets: readonly Record<string, string>[]; spread: 'random' | 'sequential'; durationS?: number; amount?: number; connections?: number },
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
