/**
 * Fleet migrations as an operator runs them: `tenantgraph tenants:migrate`, `:status` and
 * `tenants:rollback` in child processes, against real PostgreSQL, over SCHEMA and DATABASE tenants,
 * with a temporary MIGRATIONS_DIR so the tests add files without touching the repository's.
 * Every command names this test's app slug, so only this test's tenants are touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit, type Hierarchy } from '../helpers/tenants.js';
import { nodeArgs } from '../helpers/entry.js';

let app: TestApp;
let dir: string;
let hierarchy: Hierarchy;
let clinics: ProvisionedTenant[];
const year = new Date().getUTCFullYear();
const system = { kind: 'system', actor: 'test:fleet-migrations' } as const;

type Result = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function spawnCli(args: string[]): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, nodeArgs('src/cli/main.ts', ...args), {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv(), LOG_LEVEL: 'warn', MIGRATIONS_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Result>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const cli = (args: string[]) => spawnCli(args).done;
const json = <T = Record<string, unknown>>(result: Result): T => JSON.parse(result.stdout) as T;

/** Resolves once the child's stderr contains `text`. */
function waitForStderr(child: ChildProcess, text: string | RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; stderr: ${seen}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

const tenantFile = (name: string) => path.join(dir, 'tenant', name);
/** An advisory lock (two-key form, apart from the application's own locks) a test migration waits for. */
const HOLD = [7301, 3];

/** Columns of `patients` and applied migration names, read from the tenant's own storage. */
async function stateOf(clinic: ProvisionedTenant): Promise<{ columns: string[]; applied: string[] }> {
  return app.tenancy.strategyFor(clinic).withStoragePool(clinic, async (pool) => {
    const columns = await pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'patients'",
      [clinic.schemaName],
    );
    const applied = await pool.query<{ name: string }>(`SELECT name FROM "${clinic.schemaName}"._tenantgraph_migrations ORDER BY name`);
    return { columns: columns.rows.map((row) => row.column_name), applied: applied.rows.map((row) => row.name) };
  });
}

const selection = () => ['--tenants', hierarchy.app.slug, '--level', 'TENANT'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tg-fleet-'));
  await cp('migrations', dir, { recursive: true });
  app = await startTestApp({ MIGRATIONS_DIR: dir });
  hierarchy = await makeHierarchy(app.tenancy, 1);
  clinics = await mapLimit([0, 1, 2, 3, 4, 5], 3, (i) => makeClinic(app.tenancy, hierarchy.groups[0]!, i < 4 ? 'SCHEMA' : 'DATABASE', { clusterYears: [year], prefix: 'fl' }));
});
afterAll(async () => {
  await app?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Each command is a child process (several seconds on a busy machine).
describe('tenantgraph tenants:migrate', { timeout: 240_000 }, () => {
  it('a migration failing on one tenant: the others finish, status shows which and why, the fix and --resume complete it', async () => {
    const poisoned = clinics[1]!;
    await app.runtime.scopes.runInTenant(poisoned.id, system, (context) =>
      context.db.tenant().patient.create({ data: { mrn: 'poison', firstName: 'Bad', lastName: 'Data' } }),
    );
    await writeFile(
      tenantFile('0002_nickname.sql'),
      `DO $$ BEGIN IF EXISTS (SELECT 1 FROM patients WHERE mrn = 'poison') THEN RAISE EXCEPTION 'patient data needs cleaning first'; END IF; END $$;
ALTER TABLE patients ADD COLUMN nickname text NOT NULL DEFAULT '';
CREATE INDEX patients_nickname_idx ON patients (nickname);\n`,
    );
    const dry = await cli(['tenants:migrate', ...selection(), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(json<{ tenants: { targets: { pending: string[] }[] }[] }>(dry).tenants.every((t) => t.targets[0]!.pending.includes('0002_nickname.sql'))).toBe(true);
    expect((await stateOf(clinics[0]!)).applied).not.toContain('0002_nickname.sql');

    const first = await cli(['tenants:migrate', ...selection(), '--parallel', '3', '--json']);
    expect(first.code).toBe(1);
    const summary = json<{ total: number; migrated: number; failed: number; items: { slug: string; status: string; error?: string }[] }>(first);
    expect(summary).toMatchObject({ total: 6, migrated: 5, failed: 1 });
    expect(summary.items.find((item) => item.status === 'failed')).toMatchObject({ slug: poisoned.slug, error: expect.stringContaining('patient data needs cleaning first') });
    expect((await stateOf(poisoned)).columns).not.toContain('nickname');
    for (const clinic of clinics.filter((c) => c !== poisoned)) expect((await stateOf(clinic)).columns).toContain('nickname');

    const status = await cli(['tenants:migrate:status', ...selection(), '--json']);
    expect(status.code).toBe(0);
    const rows = json<{ tenants: { slug: string; pending: string[]; lastFailure: { error: string } | null; sizeBytes: number }[] }>(status).tenants;
    const bad = rows.find((row) => row.slug === poisoned.slug)!;
    expect(bad.pending).toEqual([`tenant:${poisoned.key} 0002_nickname.sql`]);
    expect(bad.lastFailure!.error).toContain('patient data needs cleaning first');
    for (const row of rows.filter((r) => r.slug !== poisoned.slug)) expect(row).toMatchObject({ pending: [], lastFailure: null });
    expect(rows.every((row) => row.sizeBytes > 0)).toBe(true);

    await app.runtime.scopes.runInTenant(poisoned.id, system, (context) => context.db.tenant().patient.deleteMany({ where: { mrn: 'poison' } }));
    const resumed = await cli(['tenants:migrate', '--resume', '--json']);
    expect(resumed.code).toBe(0);
    expect(json(resumed)).toMatchObject({ resumed: true, total: 1, migrated: 1, failed: 0, status: 'DONE', runId: json(first).runId });
    expect((await stateOf(poisoned)).columns).toContain('nickname');

    const again = await cli(['tenants:migrate', ...selection(), '--json']);
    expect(json(again)).toMatchObject({ total: 6, migrated: 0, upToDate: 6, failed: 0 });
  });

  it('an edited applied migration: drift is reported and nothing is run', async () => {
    const original = await readFile(tenantFile('0002_nickname.sql'), 'utf8');
    await writeFile(tenantFile('0002_nickname.sql'), `${original}-- edited after it was applied\n`);
    await writeFile(tenantFile('0003_extra.sql'), 'ALTER TABLE patients ADD COLUMN extra integer;\n');
    try {
      const status = await cli(['tenants:migrate:status', ...selection(), '--json']);
      const rows = json<{ tenants: { slug: string; drift: string[] }[] }>(status).tenants;
      for (const row of rows) expect(row.drift).toEqual([expect.stringContaining('0002_nickname.sql')]);

      const run = await cli(['tenants:migrate', ...selection(), '--json']);
      expect(run.code).toBe(1);
      const summary = json<{ failed: number; items: { error?: string }[] }>(run);
      expect(summary.failed).toBe(6);
      expect(summary.items.every((item) => item.error?.includes('edited after it was applied'))).toBe(true);
      for (const clinic of clinics) expect((await stateOf(clinic)).columns).not.toContain('extra');
    } finally {
      await writeFile(tenantFile('0002_nickname.sql'), original);
      await rm(tenantFile('0003_extra.sql'));
    }
  });

  it('two fleet migrations at once: the second refuses while the first runs, and the first completes', async () => {
    // The first run stays running until the second has been refused, whatever the machine's speed:
    // the file waits for an advisory lock this test holds in the SCHEMA clinics' database (it used
    // to sleep 2.5 s per tenant, 15 s in all, and hope that was long enough).
    await writeFile(tenantFile('0003_slow.sql'), `SELECT pg_advisory_xact_lock(${HOLD.join(', ')});\nALTER TABLE patients ADD COLUMN slow integer;\n`);
    const schemaClinic = clinics.find((clinic) => clinic.isolation === 'SCHEMA')!;
    let first: ReturnType<typeof spawnCli> | undefined;
    await app.tenancy.strategyFor(schemaClinic).withStoragePool(schemaClinic, async (pool) => {
      const holder = await pool.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1, $2)', HOLD);
        first = spawnCli(['tenants:migrate', ...selection(), '--parallel', '1']);
        await waitForStderr(first.child, 'started fleet migration run');
        const second = await cli(['tenants:migrate', ...selection(), '--json']);
        expect(second.code).toBe(1);
        expect(json(second)).toMatchObject({ ok: false, kind: 'busy', error: expect.stringContaining('another fleet migration is running') });
        expect(first.child.exitCode).toBeNull(); // still running: it cannot pass the lock
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1, $2)', HOLD).catch(() => undefined);
        holder.release();
      }
    });
    const done = await first!.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/DONE.*6.*6.*0.*0/s);
    for (const clinic of clinics) expect((await stateOf(clinic)).applied).toContain('0003_slow.sql');
  });

  it('SIGKILL mid fleet migration: no file is half-applied, and --resume finishes the same run', async () => {
    // The column comes first and the sleep after it: a half-applied file would leave the column behind.
    await writeFile(tenantFile('0004_killed.sql'), 'ALTER TABLE patients ADD COLUMN killed integer;\nSELECT pg_sleep(1);\n');
    const run = spawnCli(['tenants:migrate', ...selection(), '--parallel', '1']);
    await waitForStderr(run.child, /^done /m);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const runId = /run ([0-9a-f-]{36})/.exec(killed.stderr)![1];

    // Let the server notice the dead sessions (their transactions roll back, their locks go).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    let applied = 0;
    for (const clinic of clinics) {
      const state = await stateOf(clinic);
      expect(state.columns.includes('killed')).toBe(state.applied.includes('0004_killed.sql'));
      if (state.applied.includes('0004_killed.sql')) applied++;
    }
    expect(applied).toBeGreaterThanOrEqual(1);
    expect(applied).toBeLessThan(6);

    const resumed = await cli(['tenants:migrate', '--resume', '--json']);
    expect(resumed.code).toBe(0);
    expect(json(resumed)).toMatchObject({ runId, resumed: true, failed: 0, status: 'DONE', run: { total: 6, done: 6, failed: 0 } });
    for (const clinic of clinics) expect((await stateOf(clinic)).applied).toContain('0004_killed.sql');
  });
});

describe('tenantgraph tenants:rollback', { timeout: 240_000 }, () => {
  it('refuses before any change when a .down.sql is missing, then rolls back once it is there', async () => {
    await writeFile(tenantFile('0004_killed.down.sql'), 'ALTER TABLE patients DROP COLUMN killed;\n');
    const refused = await cli(['tenants:rollback', ...selection(), '--step', '2', '--json']);
    expect(refused.code).toBe(1);
    expect(json(refused)).toMatchObject({ ok: false, kind: 'refused', error: expect.stringContaining('0003_slow.down.sql') });
    for (const clinic of clinics) {
      const state = await stateOf(clinic);
      expect(state.applied).toContain('0004_killed.sql');
      expect(state.columns).toContain('killed');
    }

    await writeFile(tenantFile('0003_slow.down.sql'), 'ALTER TABLE patients DROP COLUMN slow;\n');
    const rolled = await cli(['tenants:rollback', ...selection(), '--step', '2', '--json']);
    expect(rolled.code).toBe(0);
    for (const clinic of clinics) {
      const state = await stateOf(clinic);
      expect(state.applied).not.toContain('0004_killed.sql');
      expect(state.applied).not.toContain('0003_slow.sql');
      expect(state.columns).not.toContain('killed');
      expect(state.columns).toContain('nickname');
    }
    const status = json<{ tenants: { pending: string[] }[] }>(await cli(['tenants:migrate:status', ...selection(), '--json']));
    expect(status.tenants.every((t) => t.pending.length === 2)).toBe(true);
  });
});

describe('new tenants', { timeout: 120_000 }, () => {
  it('start current: a process reading the new files builds a new template, and a new DATABASE tenant has every file', async () => {
    const later = await startTestApp({ MIGRATIONS_DIR: dir });
    try {
      const clinic = await makeClinic(later.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [], prefix: 'fl' });
      const state = await stateOf(clinic);
      expect(state.applied).toEqual(['0001_patients_users.sql', '0002_nickname.sql', '0003_slow.sql', '0004_killed.sql']);
      expect(state.columns).toEqual(expect.arrayContaining(['nickname', 'slow', 'killed']));
    } finally {
      await later.stop();
    }
  });
});
