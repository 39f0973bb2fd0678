/**
 * `tenantgraph tenants:monitor [--interval 5] [--duration 60] [--format table|json] [--url U] [--metrics-token T]`:
 * live connections, pools, request rates, errors and the slowest tenants, from the running
 * server's /metrics and the PostgreSQL server's pg_stat_activity (src/cli/monitor/).
 *
 * Without --url it asks http://localhost:<PORT>; when nothing answers there it still shows the
 * database view and says metrics are unavailable. A server named with --url that cannot be read
 * is an error (exit 1). Exit 0 done, 1 failed, 2 bad usage.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { withRuntime } from './cli-runtime.js';
import { runMonitor } from './monitor/monitor-loop.js';
import { renderSample, renderSummary } from './monitor/monitor-render.js';

type MonitorFlags = { interval: number; duration?: number; format: 'table' | 'json'; url?: string; metricsToken?: string };

export function registerMonitorCommand(program: Command): void {
  program
    .command('tenants:monitor')
    .description('Show live connections, pools, request rates, errors and the slowest tenants, every --interval seconds.')
    .option('--interval <seconds>', 'seconds between samples', parseSeconds, 5)
    .option('--duration <seconds>', 'stop after this many seconds and print a summary (default: until Ctrl-C)', parseSeconds)
    .addOption(new Option('--format <format>', 'a table per sample, or one JSON line per sample').choices(['table', 'json']).default('table'))
    .option('--url <url>', 'the running server (default http://localhost:<PORT>)', parseUrl)
    .option('--metrics-token <token>', 'bearer for /metrics (default METRICS_TOKEN)')
    .action(async (flags: MonitorFlags, command: Command) => {
      if (flags.duration !== undefined && flags.duration < flags.interval) command.error('--duration must be at least --interval', { exitCode: 2 });
      const json = flags.format === 'json';
      await withRuntime({ json }, async (runtime) => {
        const interrupted = new AbortController();
        const stop = () => interrupted.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const summary = await runMonitor(
            runtime.central.pool,
            {
              intervalSeconds: flags.interval,
              durationSeconds: flags.duration,
              url: flags.url ?? `http://localhost:${runtime.config.http.port}`,
              urlGiven: flags.url !== undefined,
              metricsToken: flags.metricsToken ?? runtime.config.metrics.token,
              sharedDatabase: runtime.config.tenancy.sharedTenantsDatabase,
            },
            (sample) => process.stdout.write(json ? `${JSON.stringify(sample)}\n` : renderSample(sample)),
            interrupted.signal,
          );
          process.stdout.write(json ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) throw new InvalidArgumentError('expected whole seconds from 1 to 86400');
  return n;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // fall through to the usage error
  }
  throw new InvalidArgumentError('expected an http(s) URL such as http://localhost:4000');
}
