/** Text output of `tenants:monitor`: one block of tables per sample, and the summary (cli-table3). */
import Table from 'cli-table3';
import { type MonitorSample, type MonitorSummary } from './monitor-loop.js';

/** Colours only for a person at a terminal: piped output (files, `less`, CI logs) stays plain text. */
const makeTable = (head: string[]) => new Table({ head, ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });

export function renderSample(sample: MonitorSample): string {
  const lines = [`— sample ${sample.sample} at ${sample.at} (last ${sample.intervalSeconds} s) —`];
  const { metrics, database } = sample;
  if (metrics.available) {
    const requests = makeTable(['req/s', 'requests', 'ok', 'client err', 'server err', 'avg ms', 'p95 ms', 'pools', 'clients', 'conns', 'waiting', 'busy', 'rss MB']);
    const r = metrics.requests;
    const p = metrics.pools;
    requests.push([r.perSecond, r.total, r.success, r.clientErrors, r.serverErrors, r.avgMs ?? '—', r.p95Ms ?? '—', p.openPools, p.openClients, p.connections, p.budgetWaiting, p.databaseBusy, metrics.memoryMb]);
    lines.push(`server ${metrics.url}`, requests.toString());
    const errors = Object.entries(metrics.errors);
    if (errors.length > 0) lines.push(`errors: ${errors.map(([code, count]) => `${code} ${count}`).join(', ')}`);
    if (metrics.topTenants.length > 0) lines.push(`busiest tenants: ${metrics.topTenants.map((t) => `${t.tenant} ${t.requests}`).join(', ')}`);
  } else {
    lines.push(`metrics unavailable: ${metrics.reason} (database view only)`);
  }
  const c = database.connections;
  lines.push(`PostgreSQL: ${c.total} connections of this installation (${c.active} active, ${c.idle} idle, ${c.idleInTransaction} idle in transaction); ${c.serverTotal}/${c.maxConnections} on the server`);
  const table = makeTable(['database', 'tenant', 'total', 'active', 'idle', 'idle in tx', 'longest ms', 'applications']);
  for (const entry of database.databases) {
    const who = entry.role === 'central' ? '(central)' : entry.role === 'shared' ? `(shared: ${entry.schemaTenants} schema tenants)` : `${entry.tenant} (${entry.level})`;
    const applications = Object.entries(entry.applications).map(([name, count]) => `${name} ${count}`).join(', ');
    table.push([entry.database, who, entry.total, entry.active, entry.idle, entry.idleInTransaction, entry.longestRunningMs || '—', applications || '—']);
  }
  lines.push(table.toString());
  if (database.slowest.length > 0) lines.push(`slowest now: ${database.slowest.map((s) => `${s.tenant ?? s.database} ${s.runningMs} ms`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function renderSummary(summary: MonitorSummary): string {
  const table = makeTable(['samples', 'seconds', 'requests', 'req/s', 'client err', 'server err', 'peak conns', 'peak active', 'slowest statement']);
  const r = summary.requests;
  const slowest = summary.slowest ? `${summary.slowest.tenant ?? summary.slowest.database} ${summary.slowest.runningMs} ms` : '—';
  table.push([summary.samples, summary.durationSeconds, summary.metricsAvailable ? r.total : '—', summary.metricsAvailable ? r.perSecond : '—', r.clientErrors, r.serverErrors, summary.peakConnections, summary.peakActive, slowest]);
  const errors = Object.entries(summary.errors);
  return `summary${summary.metricsAvailable ? '' : ' (metrics were unavailable: database view only)'}\n${table.toString()}\n${errors.length > 0 ? `errors: ${errors.map(([code, count]) => `${code} ${count}`).join(', ')}\n` : ''}`;
}
