/**
 * One load run with autocannon's programmatic API, counting what autocannon alone would not:
 * Apollo answers many failures with HTTP 200 and an `errors` array, so every body is checked, and
 * error codes (`extensions.code`, e.g. DATABASE_BUSY) are tallied. Latencies are kept per
 * response as measured by autocannon (sub-millisecond; its own histogram rounds to whole ms,
 * too coarse for a p99 ratio at 5–10 ms).
 */
import autocannon from 'autocannon';
import { percentile, sleep } from './util.js';

/** The operation every server answers: one page of 20 patients. */
export const PATIENTS_QUERY = 'query Patients($first: Int) { patients(first: $first) { edges { node { id mrn firstName lastName } } } }';
export const PATIENTS_BODY = JSON.stringify({ query: PATIENTS_QUERY, variables: { first: 20 } });

export type LoadSpec = {
  label: string;
  url: string;
  /** One header set per tenant; each request picks one (see `spread`). Build once: no per-request allocation. */
  headerSets: readonly Record<string, string>[];
  /** `random`: uniform over headerSets per request; `sequential`: each in turn (a cold pass touching every tenant once). */
  spread: Spread;
  connections: number;
  /** Seconds of load, or… */
  durationS?: number;
  /** …a number of requests. */
  amount?: number;
  /** Print a progress line this often (ms); 0 for none. */
  progressEveryMs?: number;
  progress?: (line: string) => void;
};

export type LoadResult = {
  label: string;
  seconds: number;
  responses: number;
  /** 2xx with no `errors` in the body. */
  ok: number;
  /** non-2xx, or `errors` in the body, or no response (connection error, timeout). */
  failed: number;
  non2xx: number;
  /** Responses whose body carried `errors` (any status). */
  bodyErrors: number;
  /** Connection errors and timeouts (autocannon `errors`). */
  transportErrors: number;
  /** extensions.code → count; `HTTP_<status>` when a failure body carried no code. */
  errorCodes: Record<string, number>;
  /** Successful responses whose page was empty (a tenant without patients: a setup problem). */
  emptyPages: number;
  rps: number;
  okRps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Responses slower than 100 ms and 1 s (waits for a connection show up here). */
  slower: { over100ms: number; over1s: number };
  /** Every response's latency in ms, ascending (kept so rounds can be merged exactly). */
  latencySamples: Float64Array;
};

/**
 * `zipf`: tenant k (1-based, in headerSets order) drawn with probability ∝ 1/k^1.1 — a few busy
 * tenants and a long tail, as real SaaS traffic tends to be.
 */
export type Spread = 'random' | 'sequential' | 'zipf';

export const ZIPF_EXPONENT = 1.1;

/** Draws indexes 0..n-1 with Zipf(s) probabilities: a cumulative table and a binary search. */
export function zipfPicker(n: number, s = ZIPF_EXPONENT, random: () => number = Math.random): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / k ** s;
    cumulative[k - 1] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { headerSets } = spec;
  if (headerSets.length === 0) throw new Error(`${spec.label}: no header sets`);
  let next = 0;
  const zipf = spec.spread === 'zipf' ? zipfPicker(headerSets.length) : undefined;
  const pick =
    spec.spread === 'random'
      ? () => headerSets[Math.floor(Math.random() * headerSets.length)]!
      : zipf
        ? () => headerSets[zipf()]!
        : () => headerSets[next++ % headerSets.length]!;

  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  const counts = { responses: 0, ok: 0, non2xx: 0, bodyErrors: 0, emptyPages: 0 };

  const onResponse = (status: number, body: string) => {
    counts.responses++;
    const success = status >= 200 && status < 300;
    if (!success) counts.non2xx++;
    // A substring test first: parsing every body would cost the load generator more CPU than
    // the raw floor server spends answering it.
    if (body.includes('"errors"')) {
      counts.bodyErrors++;
      tallyCodes(body, codes, status);
      return;
    }
    if (!success) {
      codes[`HTTP_${status}`] = (codes[`HTTP_${status}`] ?? 0) + 1;
      return;
    }
    counts.ok++;
    if (body.includes('"edges":[]')) counts.emptyPages++;
  };

  const started = performance.now();
  let settle: (error: unknown, result: autocannon.Result | undefined) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    settle = (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result!));
  });
  // The callback form: autocannon's own printing stays off and the result arrives here.
  autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    // Longer than DB_ACQUIRE_TIMEOUT_MS (5 s): a DATABASE_BUSY answer arrives as an answer.
    timeout: 15,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationS ?? 10 }),
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        body: PATIENTS_BODY,
        setupRequest: (request) => ({ ...request, headers: pick() }),
        onResponse,
      },
    ],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, responseTimeMs: number) => {
        latencies.push(responseTimeMs);
      });
    },
  }, (error, result) => settle(error, result));
  let lastCount = 0;
  let lastAt = started;
  const ticker =
    spec.progressEveryMs && spec.progress
      ? setInterval(() => {
          const now = performance.now();
          const rate = ((counts.responses - lastCount) / (now - lastAt)) * 1000;
          lastCount = counts.responses;
          lastAt = now;
          const failed = counts.responses - counts.ok;
          spec.progress!(`  ${spec.label}: ${((now - started) / 1000).toFixed(0)} s, ${Math.round(rate)} req/s, ${counts.responses} answered, ${failed} failed`);
        }, spec.progressEveryMs)
      : undefined;
  let result: autocannon.Result;
  try {
    result = await done;
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  // Let sockets autocannon just closed settle before the next run opens new ones.
  await sleep(200);

  const transportErrors = result.errors;
  if (transportErrors > 0) codes.CONNECTION_ERROR_OR_TIMEOUT = transportErrors;
  const failed = counts.responses - counts.ok + transportErrors;
  return {
    label: spec.label,
    seconds,
    responses: counts.responses,
    ok: counts.ok,
    failed,
    non2xx: counts.non2xx,
    bodyErrors: counts.bodyErrors,
    transportErrors,
    errorCodes: codes,
    emptyPages: counts.emptyPages,
    rps: counts.responses / seconds,
    okRps: counts.ok / seconds,
    ...summarizeLatencies(Float64Array.from(latencies)),
  };
}

function tallyCodes(body: string, codes: Record<string, number>, status: number): void {
  let found = false;
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] };
    for (const error of parsed.errors ?? []) {
      const code = typeof error.extensions?.code === 'string' ? error.extensions.code : undefined;
      if (code) {
        codes[code] = (codes[code] ?? 0) + 1;
        found = true;
      }
    }
  } catch {
    // not JSON: counted by status below
  }
  if (!found) codes[`HTTP_${status}`] = (codes[`HTTP_${status}`] ?? 0) + 1;
}

/** Several runs of one target (rounds) as one: totals add, percentiles come from all samples together. */
export function mergeResults(label: string, runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 1) return { ...runs[0]!, label };
  const sum = (f: (r: LoadResult) => number) => runs.reduce((total, r) => total + f(r), 0);
  const codes: Record<string, number> = {};
  for (const run of runs) for (const [code, n] of Object.entries(run.errorCodes)) codes[code] = (codes[code] ?? 0) + n;
  const all = new Float64Array(sum((r) => r.latencySamples.length));
  let offset = 0;
  for (const run of runs) {
    all.set(run.latencySamples, offset);
    offset += run.latencySamples.length;
  }
  const seconds = sum((r) => r.seconds);
  return {
    label,
    seconds,
    responses: sum((r) => r.responses),
    ok: sum((r) => r.ok),
    failed: sum((r) => r.failed),
    non2xx: sum((r) => r.non2xx),
    bodyErrors: sum((r) => r.bodyErrors),
    transportErrors: sum((r) => r.transportErrors),
    errorCodes: codes,
    emptyPages: sum((r) => r.emptyPages),
    rps: sum((r) => r.responses) / seconds,
    okRps: sum((r) => r.ok) / seconds,
    ...summarizeLatencies(all),
  };
}

/** Percentiles, mean and slow counts of latency samples (sorts them in place). */
function summarizeLatencies(samples: Float64Array): Pick<LoadResult, 'latencyMs' | 'slower' | 'latencySamples'> {
  const sorted = samples.sort();
  let total = 0;
  let over100ms = 0;
  let over1s = 0;
  for (const v of sorted) {
    total += v;
    if (v > 100) over100ms++;
    if (v > 1000) over1s++;
  }
  return {
    latencySamples: sorted,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
      mean: sorted.length ? total / sorted.length : Number.NaN,
    },
    slower: { over100ms, over1s },
  };
}
