/**
 * The abusive client of the `abuse` scenario, run as its own process (so its CPU is not the load
 * generator's): issue 7's abuses in a loop, `ABUSE_WORKERS` at a time, until SIGTERM; then one
 * JSON line on stdout with what came back.
 *
 * env: ABUSE_URL (the server), ABUSE_AUTHORIZATION (a tenant admin's `Bearer …` of the abusing
 * tenant), ABUSE_WORKERS (default 4).
 */
import { abuses } from './abuses.js';

const url = `${process.env.ABUSE_URL}/graphql`;
const authorization = process.env.ABUSE_AUTHORIZATION ?? '';
const workers = Number(process.env.ABUSE_WORKERS ?? 4);

const ABUSES = abuses(authorization);

const tally: Record<string, Record<string, number>> = {};
const latencies: Record<string, number[]> = {};
let stopping = false;

async function worker(offset: number) {
  for (let i = offset; !stopping; i++) {
    const abuse = ABUSES[i % ABUSES.length]!;
    const started = performance.now();
    let code: string;
    try {
      const response = await fetch(url, { method: 'POST', headers: abuse.headers, body: abuse.body });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      code = `${response.status} ${body.errors?.[0]?.extensions?.code ?? 'no error'}`;
    } catch (error) {
      code = `transport error: ${error instanceof Error ? error.message : String(error)}`;
    }
    (latencies[abuse.name] ??= []).push(performance.now() - started);
    const byCode = (tally[abuse.name] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
  }
}

const running = Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
// The bench measures only once the loop runs (loading this script can take seconds on a busy machine).
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  stopping = true;
  void running.then(() => {
    const summary = ABUSES.map(({ name }) => {
      const sorted = (latencies[name] ?? []).sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      return { name, requests: sorted.length, codes: tally[name] ?? {}, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? 0 };
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    process.exit(0);
  });
});
