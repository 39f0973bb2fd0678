/**
 * Runs one piece of work per tenant with bounded parallelism, a progress bar with ETA on a
 * terminal (a line per tenant otherwise), and a summary: done, failed, slowest. Fleet commands
 * (`tenants:run`, and the migrate/seed/backup commands that build on it) share this.
 */
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';

export type FleetItemResult<R> =
  | { slug: string; status: 'done'; durationMs: number; result: R }
  | { slug: string; status: 'failed'; durationMs: number; error: string };

export type FleetSummary<R> = { total: number; done: number; failed: number; durationMs: number; items: FleetItemResult<R>[] };

export type FleetOptions = {
  /** At most this many tenants at once. Default 4. */
  parallel?: number;
  /** No progress output (for --json). */
  quiet?: boolean;
  /** What is being done, for the progress line, e.g. `running scripts/report.ts`. */
  label: string;
};

export async function runFleet<T extends { slug: string }, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  options: FleetOptions,
): Promise<FleetSummary<R>> {
  const parallel = Math.max(1, options.parallel ?? 4);
  const started = performance.now();
  const results: FleetItemResult<R>[] = new Array(items.length);
  const interactive = !options.quiet && process.stderr.isTTY === true;
  const bar = interactive
    ? new SingleBar({ format: `${options.label} [{bar}] {value}/{total} tenants | ETA {eta_formatted} | {failed} failed | {slug}`, hideCursor: true, stream: process.stderr })
    : undefined;
  let failed = 0;
  bar?.start(items.length, 0, { failed: 0, slug: '' });
  let next = 0;
  const runners = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      const itemStarted = performance.now();
      try {
        const result = await work(item);
        results[index] = { slug: item.slug, status: 'done', durationMs: Math.round(performance.now() - itemStarted), result };
      } catch (error) {
        failed++;
        results[index] = { slug: item.slug, status: 'failed', durationMs: Math.round(performance.now() - itemStarted), error: error instanceof Error ? error.message : String(error) };
      }
      const entry = results[index]!;
      if (bar) bar.increment({ failed, slug: item.slug });
      else if (!options.quiet) process.stderr.write(`${entry.status === 'done' ? 'done  ' : 'FAILED'} ${item.slug} (${entry.durationMs} ms)${entry.status === 'failed' ? `: ${entry.error}` : ''}\n`);
    }
  });
  await Promise.all(runners);
  bar?.stop();
  return { total: items.length, done: items.length - failed, failed, durationMs: Math.round(performance.now() - started), items: results };
}

/** The summary as a table for people: counts, failures with their errors, the slowest tenants. */
export function formatFleetSummary(summary: FleetSummary<unknown>, label: string): string {
  const lines = [`${label}: ${summary.done} done, ${summary.failed} failed of ${summary.total} tenants in ${summary.durationMs} ms`];
  const failures = summary.items.filter((item) => item.status === 'failed');
  if (failures.length > 0) {
    const table = new Table({ head: ['failed tenant', 'error'], wordWrap: true, colWidths: [30, 80], style: { head: [] } });
    for (const item of failures) table.push([item.slug, item.status === 'failed' ? item.error : '']);
    lines.push(table.toString());
  }
  const slowest = [...summary.items].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
  if (slowest.length > 0) {
    const table = new Table({ head: ['slowest tenant', 'ms', 'status'], style: { head: [] } });
    for (const item of slowest) table.push([item.slug, item.durationMs, item.status]);
    lines.push(table.toString());
  }
  return lines.join('\n');
}
