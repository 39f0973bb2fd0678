// Restart time of `npm start`: spawns it N times and measures from spawn to the first 200 from
// /health/ready, then stops it with SIGTERM. Uses the environment as given (set DATABASE_URL to
// measure against your PostgreSQL; the first run may build and create demo data, so it is shown
// apart from the rest).
//
//   PORT=4610 DATABASE_URL=postgres://... node bench/start-time.mjs [runs=5]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const runs = Number(process.argv[2] ?? 5);
const port = process.env.PORT ?? '4610';
const env = { ...process.env, PORT: port, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };

async function once() {
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error('npm start exited before it was ready');
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        if (response.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await sleep(20);
    }
  } finally {
    process.kill(-child.pid, 'SIGTERM'); // npm and the server it runs
    while (!exited) await sleep(20);
  }
}

const times = [];
for (let i = 0; i < runs; i++) {
  const ms = await once();
  times.push(ms);
  process.stdout.write(`run ${i + 1}: ready in ${(ms / 1000).toFixed(2)} s\n`);
}
const rest = times.slice(1).sort((a, b) => a - b);
if (rest.length) process.stdout.write(`restarts (runs 2..${runs}): median ${(rest[Math.floor(rest.length / 2)] / 1000).toFixed(2)} s, max ${(rest.at(-1) / 1000).toFixed(2)} s (load average ${os.loadavg()[0].toFixed(1)})\n`);
