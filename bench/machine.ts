/**
 * What the figures were measured on. Absolute numbers mean little without this; the ratios are
 * what carries over to other machines.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type BenchEnvironment } from './environment.js';
import { readMachineCpu } from './processes.js';
import { sleep } from './util.js';

export type MachineInfo = {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  postgresMaxConnections: string;
  redis: string;
  packages: Record<string, string>;
  git: string;
  /** Share of all cores busy during one second before the run (other work on the machine). */
  backgroundBusy: number;
};

/** Packages whose version moves the numbers. */
const PACKAGES = [
  '@apollo/server',
  'graphql',
  'type-graphql',
  'graphql-shield',
  '@prisma/client',
  '@prisma/adapter-pg',
  'pg',
  'ioredis',
  'jose',
  'autocannon',
  'tsx',
  'typescript',
];

export async function describeMachine(bench: BenchEnvironment, root: string): Promise<MachineInfo> {
  const cpus = os.cpus();
  const client = new pg.Client({ connectionString: bench.maintenanceUrl, application_name: 'bench:admin' });
  await client.connect();
  let postgres = 'unknown';
  let maxConnections = 'unknown';
  try {
    postgres = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v.split(',')[0] ?? postgres;
    maxConnections = (await client.query<{ max_connections: string }>('SHOW max_connections')).rows[0]?.max_connections ?? maxConnections;
  } finally {
    await client.end();
  }
  const before = readMachineCpu();
  await sleep(1000);
  const after = readMachineCpu();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    postgres,
    postgresMaxConnections: maxConnections,
    redis: await redisVersion(bench.redisUrl),
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(root, name)])),
    git: gitDescription(root),
    backgroundBusy: (after.busy - before.busy) / Math.max(1, after.total - before.total),
  };
}

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function redisVersion(url: string): Promise<string> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    redis.disconnect();
  }
}

/** Commit and whether src/ had uncommitted changes (other work lands in src/ while benches run). */
function gitDescription(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${commit} + uncommitted changes in src/ (${dirty.split('\n').length} files)` : commit;
  } catch {
    return 'unknown';
  }
}
