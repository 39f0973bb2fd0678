/**
 * SIGKILL in the middle of provisioning and of a hard delete, with the server as a real child
 * process: after a restart the work is finished (resumed as a new attempt, or undone), and
 * PostgreSQL holds no orphan database, role or schema — listed from pg_database, pg_roles and
 * information_schema.schemata before and after (this run's prefix, this file's keys).
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testEnv, uniqueKey, type TestApp } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { awaitProvisioning, makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';
import { until } from '../helpers/until.js';
import { nodeArgs } from '../helpers/entry.js';

let app: TestApp;
let hierarchy: Hierarchy;
const children: ServerProcess[] = [];
const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id status } }';
const DELETE = 'mutation($id: ID!, $confirm: String) { deleteTenant(id: $id, hard: true, confirm: $confirm) { hard } }';
/** Every key this file makes starts with it, so the lists below see only this file's storage. */
const MARK = 'crash';

async function child(env: Record<string, string> = {}): Promise<ServerProcess> {
  const started = await startServerProcess({ PROVISIONING_RECOVERY_INTERVAL_MS: '300', ...env });
  children.push(started);
  return started;
}

/** Databases, roles and schemas of this run whose name carries MARK. */
async function storageSnapshot(): Promise<string[]> {
  const prefix = testEnv().TENANT_DATABASE_PREFIX!;
  const like = `%${MARK}%`;
  const databases = await app.central.pool.query<{ n: string }>('SELECT datname AS n FROM pg_database WHERE starts_with(datname, $1) AND datname LIKE $2', [prefix, like]);
  const roles = await app.central.pool.query<{ n: string }>('SELECT rolname AS n FROM pg_roles WHERE starts_with(rolname, $1) AND rolname LIKE $2', [prefix, like]);
  const shared = new URL(testEnv().DATABASE_URL!);
  shared.pathname = `/${testEnv().TENANTS_SHARED_DATABASE}`;
  const client = new pg.Client({ connectionString: shared.toString() });
  client.on('error', () => {});
  // The shared SCHEMA database is made with the run's first SCHEMA tenant.
  if (!(await client.connect().then(() => true, () => false))) return [...databases.rows.map((r) => `db:${r.n}`), ...roles.rows.map((r) => `role:${r.n}`)].sort();
  try {
    const schemas = await client.query<{ n: string }>('SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE $1', [like]);
    return [...databases.rows.map((r) => `db:${r.n}`), ...roles.rows.map((r) => `role:${r.n}`), ...schemas.rows.map((r) => `schema:${r.n}`)].sort();
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // This process runs no worker: the child processes (and their restarts) do the work.
  app = await startTestApp({ WORKER: 'false' });
  hierarchy = await makeHierarchy(app.tenancy, 1);
});
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await app?.stop();
});

describe('SIGKILL and restart', () => {
  it.each([
    ['DATABASE', 'cluster-schemas'],
    ['SCHEMA', 'role'],
  ] as const)('provisioning (%s) killed while %s runs: after restart the tenant ends ACTIVE or cleanly FAILED, no orphan storage', async (isolation, step) => {
    const before = await storageSnapshot();
    const server = await child({ PROVISIONING_TEST_STEP_DELAY: `${step}=4000` });
    const token = await app.token({ subject: 'crash-sys', tenantId: null, roles: ['system_admin'] });
    const slug = uniqueKey(MARK).replace(/_/g, '-');
    const created = await server.gql<{ createTenant: { id: string } }>(
      CREATE,
      { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Crash', isolation, domains: [`${slug}.test`] } },
      { authorization: `Bearer ${token}` },
    );
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data!.createTenant.id;

    await until(`step ${step} RUNNING`, async () => {
      const { rows } = await app.central.pool.query(
        "SELECT 1 FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id WHERE r.tenant_id = $1 AND s.name = $2 AND s.status = 'RUNNING'",
        [id, step],
      );
      return rows.length > 0 ? true : undefined;
    });
    await server.kill();
    // Half-made storage is there now: the kill happened midway.
    expect((await storageSnapshot()).length).toBeGreaterThan(before.length);

    await child();
    const outcome = await awaitProvisioning(app.central.pool, id, 60_000);
    expect(['ACTIVE', 'FAILED']).toContain(outcome.status);
    const key = slug.replace(/-/g, '_');
    const after = await storageSnapshot();
    const added = after.filter((name) => !before.includes(name));
    if (outcome.status === 'ACTIVE') {
      // Taken over as a new attempt, from the start, after undoing the interrupted one.
      expect(outcome.provisioning).toMatchObject({ status: 'ACTIVE', attempt: 2 });
      expect(outcome.provisioning!.steps.every((s) => s.status === 'DONE')).toBe(true);
      // Only this tenant's own storage was added, each name once.
      expect(added.length).toBeGreaterThan(0);
      for (const name of added) expect(name).toContain(key);
    } else {
      expect(added).toEqual([]);
    }
    expect(after.filter((name) => before.includes(name))).toEqual(before);
  });

  it('a provisioning whose lock session is cut midway stops without undoing; recovery takes it over, and the tenant and its run agree', async () => {
    const before = await storageSnapshot();
    const server = await child({ PROVISIONING_TEST_STEP_DELAY: 'cluster-schemas=1500' });
    const token = await app.token({ subject: 'crash-sys', tenantId: null, roles: ['system_admin'] });
    const slug = uniqueKey(MARK).replace(/_/g, '-');
    const created = await server.gql<{ createTenant: { id: string } }>(
      CREATE,
      { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Cut', isolation: 'SCHEMA', domains: [`${slug}.test`] } },
      { authorization: `Bearer ${token}` },
    );
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data!.createTenant.id;
    await until('step cluster-schemas RUNNING', async () => {
      const { rows } = await app.central.pool.query(
        "SELECT 1 FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id WHERE r.tenant_id = $1 AND s.name = 'cluster-schemas' AND s.status = 'RUNNING'",
        [id],
      );
      return rows.length > 0 ? true : undefined;
    });
    // The lock session (not the process) dies: as when a network cut or the server ends that one connection.
    const cut = await app.central.pool.query(
      `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'tenantgraph:lock' AND l.objid = hashtext($1)::oid::bigint`,
      [`tenantgraph:provision:${id}`],
    );
    expect(cut.rowCount).toBe(1);
    const outcome = await awaitProvisioning(app.central.pool, id, 60_000);
    // Taken over as a new attempt once the cut one had stopped: its step in flight ended first (the work lock), so the undo ran after it and nothing failed.
    expect(outcome.status).toBe('ACTIVE');
    expect(outcome.provisioning).toMatchObject({ status: 'ACTIVE', attempt: 2 });
    const cutSteps = await app.central.pool.query<{ name: string; status: string }>(
      'SELECT s.name, s.status FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id WHERE r.tenant_id = $1 AND r.attempt = 1',
      [id],
    );
    // The step that was running when the lock session was cut finished (DONE), and only then was undone; a takeover that
    // did not wait would have marked it UNDONE while it slept, and its late DONE would remain.
    expect(cutSteps.rows.find((step) => step.name === 'cluster-schemas')?.status).toBe('UNDONE');
    expect(cutSteps.rows.filter((step) => step.status === 'DONE' || step.status === 'RUNNING')).toEqual([]);
    const after = await storageSnapshot();
    const key = slug.replace(/-/g, '_');
    const added = after.filter((n) => !before.includes(n));
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) expect(name).toContain(key);
    expect(after.filter((name) => before.includes(name))).toEqual(before);
  });

  it('a hard delete whose lock session is cut midway is not run twice: recovery waits until its drops have ended, and the tenant is gone', async () => {
    const victim = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { prefix: MARK });
    const neighbour = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { prefix: MARK });
    const before = await storageSnapshot();
    const server = await child({ PROVISIONING_TEST_STEP_DELAY: 'hard-delete=4000' });
    const token = await app.token({ subject: 'crash-sys', tenantId: null, roles: ['system_admin'] });
    const deleting = server.gql<{ deleteTenant: { hard: boolean } }>(DELETE, { id: victim.id, confirm: victim.slug }, { authorization: `Bearer ${token}` });
    await until('storage dropped', async () => {
      const { rows } = await app.central.pool.query("SELECT status FROM tenants WHERE id = $1 AND status = 'DELETING'", [victim.id]);
      const exists = await app.tenancy.strategyFor(victim).exists(victim);
      return rows.length > 0 && !exists ? true : undefined;
    });
    // The delete's lock session (not the process) dies while its drops pause; the same process's recovery (every 300 ms)
    // then finds the delete lock free.
    const cut = await app.central.pool.query(
      `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'tenantgraph:lock' AND l.objid = hashtext($1)::oid::bigint`,
      [`tenantgraph:hard-delete:${victim.id}`],
    );
    expect(cut.rowCount).toBe(1);
    // It waits for the work lock the live delete still holds, instead of dropping alongside it (without the work lock,
    // nothing ever waits here and this times out).
    await until(
      'recovery waiting for the live drops to end',
      async () => {
        const { rows } = await app.central.pool.query(
          "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = hashtext($1)::oid::bigint",
          [`tenantgraph:hard-delete-work:${victim.id}`],
        );
        return rows.length > 0 ? true : undefined;
      },
      3_000,
    );
    const answer = await deleting;
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.deleteTenant.hard).toBe(true);
    expect((await app.central.pool.query('SELECT 1 FROM tenants WHERE id = $1', [victim.id])).rowCount).toBe(0);
    const after = await storageSnapshot();
    expect(after.filter((name) => name.includes(victim.key))).toEqual([]);
    expect(after.filter((name) => name.includes(neighbour.key))).toEqual(before.filter((name) => name.includes(neighbour.key)));
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [neighbour.id])).rows[0]?.status).toBe('ACTIVE');
  });

  it('hard delete killed midway (storage dropped, role not yet): after restart everything of that tenant is gone, its neighbour untouched', async () => {
    const victim = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { prefix: MARK });
    const neighbour = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { prefix: MARK });
    const before = await storageSnapshot();
    expect(before.some((name) => name.includes(victim.key))).toBe(true);
    const server = await child({ PROVISIONING_TEST_STEP_DELAY: 'hard-delete=4000' });
    const token = await app.token({ subject: 'crash-sys', tenantId: null, roles: ['system_admin'] });
    const deleting = server.gql(DELETE, { id: victim.id, confirm: victim.slug }, { authorization: `Bearer ${token}` }).catch(() => undefined);
    await until('storage dropped', async () => {
      const { rows } = await app.central.pool.query("SELECT status FROM tenants WHERE id = $1 AND status = 'DELETING'", [victim.id]);
      const exists = await app.tenancy.strategyFor(victim).exists(victim);
      return rows.length > 0 && !exists ? true : undefined;
    });
    await server.kill();
    await deleting;
    // Killed midway: the row is still DELETING (routing treats it as gone) and the role is still there.
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [victim.id])).rows[0]?.status).toBe('DELETING');
    expect((await storageSnapshot()).some((name) => name === `role:${victim.dbUsername}`)).toBe(true);

    await child();
    await until('the row gone', async () => ((await app.central.pool.query('SELECT 1 FROM tenants WHERE id = $1', [victim.id])).rowCount === 0 ? true : undefined));
    const after = await storageSnapshot();
    expect(after.filter((name) => name.includes(victim.key))).toEqual([]);
    expect(after.filter((name) => name.includes(neighbour.key))).toEqual(before.filter((name) => name.includes(neighbour.key)));
    expect(after.filter((name) => name.includes(neighbour.key)).length).toBeGreaterThan(0);
    expect((await app.central.pool.query('SELECT status FROM tenants WHERE id = $1', [neighbour.id])).rows[0]?.status).toBe('ACTIVE');
  });
});

describe('a separate `tenantgraph worker`', () => {
  it('provisions a tenant created through a server that runs no worker', async () => {
    const token = await app.token({ subject: 'crash-sys', tenantId: null, roles: ['system_admin'] });
    const slug = uniqueKey(MARK).replace(/_/g, '-');
    const created = await app.gql<{ createTenant: { id: string; status: string } }>(
      CREATE,
      { input: { level: 'TENANT', parentId: hierarchy.groups[0]!.id, slug, name: 'Worker', isolation: 'SCHEMA' } },
      { authorization: `Bearer ${token}` },
    );
    expect(created.body.data?.createTenant.status).toBe('PROVISIONING');
    const worker = spawn(process.execPath, nodeArgs('src/cli/main.ts', 'worker'), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv(), LOG_LEVEL: 'warn', WORKER_POLL_INTERVAL_MS: '100' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      expect((await awaitProvisioning(app.central.pool, created.body.data!.createTenant.id, 60_000)).status).toBe('ACTIVE');
    } finally {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
  });
});

