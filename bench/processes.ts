/**
 * Servers under test run as child processes: their CPU and memory are theirs alone (readable in
 * /proc), a crash cannot take the bench down, and the bench's own load generator does not share
 * their event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { sleep } from './util.js';

export type ServerProcess = {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Last lines of its stdout/stderr, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
};

/** A port nobody listens on right now (the tiny race until the child binds it is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <args>` and waits until `ready.path` answers 2xx (polled every 100 ms, up to
 * `timeoutMs`). Fails with the child's output when it exits or never gets ready.
 */
export async function startServer(options: {
  name: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  /** A GET that answers 2xx once the server serves (headers e.g. for Apollo's CSRF check). */
  ready: { path: string; headers?: Record<string, string> };
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const output = () => lines.join('\n');
  const url = `http://127.0.0.1:${options.port}`;

  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (hasExited) throw new Error(`${options.name} exited during start-up:\n${output()}`);
    if (performance.now() > deadline) {
      await stopChild(child, exited, 2000);
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${output()}`);
    }
    if (await answers(`${url}${options.ready.path}`, options.ready.headers)) break;
    await sleep(100);
  }
  return {
    name: options.name,
    pid: child.pid!,
    port: options.port,
    url,
    output,
    stop: (graceMs = 15_000) => stopChild(child, exited, graceMs),
  };
}

async function answers(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- /proc readers (Linux) ----

let clockTicks: number | undefined;

/** Kernel clock ticks per second (utime/stime units in /proc/<pid>/stat). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size of a process in bytes, or undefined once it is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, in milliseconds. */
export function readProcessCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) / ticksPerSecond()) * 1000;
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU counters from /proc/stat: busy, stolen by the hypervisor, and total jiffies. */
export function readMachineCpu(): { busy: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0); // guest time is already in user
  return { busy: total - idle, steal: values[7] ?? 0, total };
}

/**
 * Local TCP ports of the sockets process `pid` holds (its outgoing PostgreSQL connections among
 * them), from /proc/<pid>/fd and /proc/<pid>/net/tcp{,6}; empty when /proc cannot be read.
 */
export function socketPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
    for (const table of ['tcp', 'tcp6']) {
      for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields.length > 9 && inodes.has(fields[9]!)) ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
      }
    }
  } catch {
    // the process is gone or /proc is not readable
  }
  return ports;
}
