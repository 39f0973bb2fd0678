/**
 * Where a server's CPU went, from a profile written by `npm run bench -- --profile DIR`:
 * self time grouped by package (node_modules/<name>, the project's src/, node internals, GC,
 * idle) and the functions with most self time.
 *
 *   npx tsx bench/profile-summary.ts DIR/tenantgraph-*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

function owner(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program: V8/native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (/\/(dist\/)?src\//.test(url)) return 'tenantgraph src/';
  if (/\/bench\//.test(url)) return 'bench/';
  return url === '' ? '(native)' : url;
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) || 25 : 25;
  const files = args.filter((a, i) => !a.startsWith('--') && (topIndex < 0 || i !== topIndex + 1));
  if (files.length === 0) {
    console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]');
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    // Self time per node: each sample's time delta belongs to the node that was on top.
    const self = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    const total = [...self.values()].reduce((s, v) => s + v, 0);
    const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((s, [, v]) => s + v, 0);
    const busy = total - idle;
    const byOwner = new Map<string, number>();
    const byFunction = new Map<string, number>();
    for (const [id, micros] of self) {
      const frame = byId.get(id)!.callFrame;
      const who = owner(frame);
      if (who === '(idle)') continue;
      byOwner.set(who, (byOwner.get(who) ?? 0) + micros);
      const name = `${frame.functionName || '(anonymous)'}  ${who}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    }
    const share = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
    console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)}%)`);
    console.log('\nself time by owner (share of busy time):');
    for (const [who, v] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${share(v)}  ${who}`);
    console.log(`\ntop ${top} functions by self time:`);
    for (const [name, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${share(v)}  ${name}`);
  }
}

main();
