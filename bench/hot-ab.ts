/**
 * `npx tsx bench/hot-ab.ts ROUNDS SECONDS NAME=DIST[,ENV=VALUE...] ...`: server CPU per request of
 * several tenantgraph builds side by side on the hot query (the hot scenario's request, one
 * DATABASE tenant), each against plain Apollo + Prisma of the same round.
 *
 * Every build (a copy of `dist/` kept inside the project, e.g. `dist/variants/before`, so it finds
 * package.json and node_modules) and plain Apollo start once; then, per round, each gets 0.5 s of
 * warm-up and SECONDS of load (40 connections), in an order rotated every round, and its CPU
 * (user + system, /proc) is divided by its successful answers. Meant for before/after comparisons
 * on a shared machine: the builds alternate within seconds of each other, so load from elsewhere
 * falls on all of them, and the ratio to plain of the same round is what to read.
 *
 *   git checkout BEFORE && npm run build && mkdir -p /tmp/ab/before && cp -r dist/src /tmp/ab/before/
 *   git checkout AFTER && npm run build && mkdir -p dist/variants/after && cp -r dist/src dist/variants/after/
 *   cp -r /tmp/ab/before dist/variants/
 *   npx tsx bench/hot-ab.ts 10 3 before=dist/variants/before after=dist/variants/after jit=dist/variants/after,GRAPHQL_JIT=true
 *
 * Uses the bench's hot tenant (`npm run bench` provisions it; this makes it if missing).
 * `HOT_AB_PROFILE_DIR=DIR`: every build writes a V8 CPU profile there (slower; for where, not how much).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { benchEnvironment, serverEnv } from './environment.js';
import { ensureFixtures } from './fixtures.js';
import { runLoad } from './load.js';
import { freePort, readProcessCpuMs, startServer, type ServerProcess } from './processes.js';
import { DEFAULT_REGISTRY, profileArgs, startBaseline } from './servers.js';
import { makeTokenMinter } from './tokens.js';

const root = path.resolve(import.meta.dirname, '..');
const CONNECTIONS = 40;

type Target = { name: string; server: ServerProcess };

function parseBuild(spec: string): { name: string; dist: string; env: Record<string, string> } {
  const [name, rest] = spec.split('=', 2) as [string, string | undefined];
  if (!rest) throw new Error(`expected NAME=DIST[,ENV=VALUE...], got ${spec}`);
  const [dist, ...settings] = rest.split(',');
  const env = Object.fromEntries(settings.map((setting) => setting.split('=', 2) as [string, string]));
  return { name, dist: dist!, env };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const [roundsArg, secondsArg, ...specs] = process.argv.slice(2);
  const rounds = Number(roundsArg);
  const seconds = Number(secondsArg);
  if (!(rounds >= 1) || !(seconds > 0) || specs.length === 0) {
    console.error('usage: npx tsx bench/hot-ab.ts ROUNDS SECONDS NAME=DIST[,ENV=VALUE...] ...');
    process.exitCode = 2;
    return;
  }
  const bench = benchEnvironment();
  const fixtures = await ensureFixtures(
    bench,
    { schemaTenants: 0, databaseTenants: 0, bulkSchemaTenants: 0, bulkBatchSize: 250, hotPatients: 50, churnPatients: 25, parallelism: 2 },
    (line) => console.log(line),
  );
  const [headers] = await (await makeTokenMinter(bench)).headersFor([fixtures.hot]);
  const headerSets = [headers!];
  const targets: Target[] = [];
  try {
    for (const spec of specs) {
      const { name, dist, env } = parseBuild(spec);
      const port = await freePort();
      const server = await startServer({
        name,
        args: [...profileArgs(process.env.HOT_AB_PROFILE_DIR, name), path.join(root, dist, 'src', 'main.js')],
        cwd: root,
        env: serverEnv(bench, port, { ...DEFAULT_REGISTRY, ...env }),
        port,
        ready: { path: '/health/ready' },
      });
      targets.push({ name, server });
    }
    targets.push({ name: 'plain', server: await startBaseline('plain', bench, root, fixtures.hot, Number(DEFAULT_REGISTRY.DB_POOL_MAX)) });
    const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const okRps = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const p99 = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // Round 0 warms every process up (JIT, pools, caches) and is not counted.
    for (let round = 0; round <= rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      const line: string[] = [];
      for (const { name, server } of order) {
        await runLoad({ label: `${name} warm-up`, url: server.url, headerSets, spread: 'random', connections: CONNECTIONS, durationS: round === 0 ? 3 : 0.5 });
        if (round === 0) continue;
        const before = readProcessCpuMs(server.pid)!;
        const load = await runLoad({ label: name, url: server.url, headerSets, spread: 'random', connections: CONNECTIONS, durationS: seconds });
        const used = readProcessCpuMs(server.pid)! - before;
        if (load.failed > 0) console.log(`${name}: ${load.failed} failed`, load.errorCodes);
        cpu.get(name)!.push(used / load.ok);
        okRps.get(name)!.push(load.okRps);
        p99.get(name)!.push(load.latencyMs.p99);
        line.push(`${name} ${(used / load.ok).toFixed(3)}`);
      }
      if (round > 0) console.log(`round ${round} (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}): ${line.join('  ')}`);
    }
    const plain = cpu.get('plain')!;
    console.log('\nserver CPU ms/request, median | ours / plain per round: median (min-max) [rounds] | ok req/s, median | p99 ms, median');
    for (const [name, values] of cpu) {
      const ratios = values.map((value, i) => value / plain[i]!);
      console.log(
        `${name.padEnd(10)} ${median(values).toFixed(3)} | ${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) ` +
          `[${ratios.map((r) => r.toFixed(2)).join(' ')}] | ${median(okRps.get(name)!).toFixed(0)} | ${median(p99.get(name)!).toFixed(1)}`,
      );
    }
  } finally {
    for (const { server } of targets) await server.stop();
  }
}

await main();
