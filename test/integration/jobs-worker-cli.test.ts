/**
 * `tenantgraph worker` as its own process: it runs jobs, and SIGTERM drains it — the running job
 * finishes and is recorded as completed before the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { defineTenantJob, openJobQueue, type JobQueue } from '../../src/infra/jobs/index.js';
import { makeLogger } from '../../src/infra/logger.js';
import { scriptArgs } from '../helpers/entry.js';

const suffix = `${inject('runId')}${Math.random().toString(36).slice(2, 6)}`;
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
const SLOW_JOB = 'test.cli-slow';
let tenantId: string;
let queue: JobQueue<unknown>;
let child: ChildProcess | undefined;

/** The registered `worker` command, given one slow job definition. */
const script = `
  const { Command } = await import('commander');
  const { registerWorkerCommand } = await import('./src/cli/worker.command.ts');
  const { defineTenantJob } = await import('./src/infra/jobs/index.ts');
  const slow = defineTenantJob('${SLOW_JOB}', async (payload, ctx, job) => {
    job.logger.info({ tenantOfScope: ctx.scope.tenant.id }, 'slow job started');
    await new Promise((resolve) => setTimeout(resolve, payload.ms));
  });
  const program = new Command().name('tenantgraph').exitOverride();
  registerWorkerCommand(program, [slow]);
  await program.parseAsync(['node', 'tenantgraph', 'worker']);
`;

beforeAll(async () => {
  const insert = (sql: string, values: unknown[]) => pool.query<{ id: string }>(sql, values).then((result) => result.rows[0]!.id);
  const app = await insert(`INSERT INTO tenants (level, key, slug, name, status) VALUES ('APP', $1, $2, 'W app', 'ACTIVE') RETURNING id`, [`w_app_${suffix}`, `w-app-${suffix}`]);
  const group = await insert(
    `INSERT INTO tenants (level, parent_id, key, slug, name, status) VALUES ('CENTRAL_TENANT', $1, $2, $3, 'W group', 'ACTIVE') RETURNING id`,
    [app, `w_group_${suffix}`, `w-group-${suffix}`],
  );
  tenantId = await insert(
    `INSERT INTO tenants (level, parent_id, key, slug, name, status, isolation) VALUES ('TENANT', $1, $2, $3, 'W clinic', 'ACTIVE', 'SCHEMA') RETURNING id`,
    [group, `w_clinic_${suffix}`, `w-clinic-${suffix}`],
  );
  queue = await openJobQueue<unknown>({
    connectionString: inject('databaseUrl'),
    logger: makeLogger('silent'),
    runInTenant: async () => {
      throw new Error('this process runs no jobs');
    },
    runCentral: async () => {
      throw new Error('this process runs no jobs');
    },
    findDeletedTenants: async () => new Set(),
    maintenance: false,
  });
  await queue.register([defineTenantJob<{ ms: number }, unknown>(SLOW_JOB, async () => {})]);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await queue?.close();
  await pool.end();
});

it('runs jobs until SIGTERM, then lets the running job finish and exits 0', async () => {
  let stdout = '';
  const proc = spawn(process.execPath, scriptArgs(script), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: inject('databaseUrl'),
      WORKER_POLL_INTERVAL_MS: '100',
      TENANTS_SHARED_DATABASE: `tg_shared_${inject('runId')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  proc.stdout!.on('data', (chunk) => (stdout += chunk));
  proc.stderr!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out until ${what}; output:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  await until('the worker runs', () => stdout.includes('tenantgraph worker running'));
  const id = (await queue.enqueue(tenantId, SLOW_JOB, { ms: 1500 }))!;
  await until('the job started', () => stdout.includes('slow job started'));
  expect(stdout).toContain(`"tenantOfScope":"${tenantId}"`);
  const signalledAt = Date.now();
  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  // It waited for the job rather than abandoning it.
  expect(Date.now() - signalledAt).toBeGreaterThan(500);
  expect((await queue.get(id))!.state).toBe('completed');
  expect(stdout).toContain('worker stopped');
}, 60_000);
