/**
 * Durable tenant jobs on real PostgreSQL: 1,000 interleaved jobs of 50 tenants on one worker,
 * retries, discarding jobs of deleted tenants, enqueueing inside the caller's transaction,
 * singletons, and the system-admin API over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCentralJob, defineTenantJob, type AnyJobDefinition } from '../../src/infra/jobs/index.js';
import { currentTenantContext, type TenantContext } from '../../src/tenancy/bootstrappers/index.js';
import { chainTarget } from '../../src/tenancy/identification/identification-types.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

type Clinic = ProvisionedTenant & { domain: string };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What each marker job saw, by job index. */
const seen = new Map<
  number,
  { jobTenantId: string; scopeTenantId: string; alsTenantId: string | undefined; principal: unknown; markers: string[]; fileMarkers: string[]; cacheMarker: string | undefined; ownFile: string }
>();
const markerJob = defineTenantJob<{ index: number }, TenantContext>(
  'test.marker',
  async (payload, ctx, job) => {
    if (ctx.scope.level === 'CENTRAL') throw new Error('a tenant job ran in the central scope');
    const db = ctx.db.tenant();
    const markers = await db.patient.findMany({ where: { mrn: { startsWith: 'MARK-' } }, select: { mrn: true } });
    const fileMarkers = await ctx.files.list('markers');
    const cacheMarker = await ctx.cache.get<string>('marker');
    await sleep(Math.random() * 10);
    // AsyncLocalStorage holds this job's context across the awaits, whatever ran in between.
    const als = currentTenantContext();
    // Idempotent, as a job must be: delivery is at least once, and a retry may follow a partial run.
    await db.patient.upsert({
      where: { mrn: `JOB-${payload.index}` },
      create: { mrn: `JOB-${payload.index}`, firstName: 'Job', lastName: String(payload.index) },
      update: {},
    });
    await ctx.files.write(`jobs/${payload.index}.txt`, job.tenantId);
    seen.set(payload.index, {
      jobTenantId: job.tenantId,
      scopeTenantId: chainTarget(ctx.scope).id,
      alsTenantId: als && als.scope.level !== 'CENTRAL' ? chainTarget(als.scope).id : undefined,
      principal: ctx.principal,
      markers: markers.map((m) => m.mrn),
      fileMarkers,
      cacheMarker,
      ownFile: (await ctx.files.read(`jobs/${payload.index}.txt`)).toString('utf8'),
    });
  },
  { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: false },
);

/** Attempts of the always-failing job, by job id. */
const failingAttempts = new Map<string, number[]>();
const failingJob = defineTenantJob<Record<string, never>, TenantContext>(
  'test.always-fails',
  async (_payload, _ctx, job) => {
    failingAttempts.set(job.id, [...(failingAttempts.get(job.id) ?? []), job.attempt]);
    throw new Error(`attempt ${job.attempt} failed on purpose`);
  },
  { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: true },
);

/** Ids of jobs whose handler ran, for jobs that must not run. */
const ran = new Set<string>();
const recordingJob = defineTenantJob<{ note: string }, TenantContext>('test.recording', async (_payload, _ctx, job) => {
  ran.add(job.id);
});
const singletonJob = defineTenantJob<Record<string, never>, TenantContext>('test.singleton', async () => {}, { singleton: true });
const centralRuns: { note: string; level: string; alsLevel: string | undefined; principal: unknown }[] = [];
const centralJob = defineCentralJob<{ note: string }, TenantContext>('test.central', async (payload, ctx) => {
  centralRuns.push({ note: payload.note, level: ctx.scope.level, alsLevel: currentTenantContext()?.scope.level, principal: ctx.principal });
});
/** A job that keeps its context, to show it is released once the job is over. */
let keptContext: TenantContext | undefined;
const keepingJob = defineTenantJob<Record<string, never>, TenantContext>('test.keeps-context', async (_payload, ctx, job) => {
  keptContext = ctx;
  ran.add(job.id);
});
const slowJob = defineTenantJob<{ ms: number }, TenantContext>('test.slow', async (payload, _ctx, job) => {
  await sleep(payload.ms);
  ran.add(job.id);
});

const definitions: AnyJobDefinition<TenantContext>[] = [markerJob, failingJob, recordingJob, singletonJob, centralJob, slowJob, keepingJob];

let app: TestApp;
let storageDir: string;
let clinics: Clinic[];
let adminToken: string;
let tenantAdminToken: string;

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  storageDir = await mkdtemp(path.join(tmpdir(), 'tenantgraph-jobs-'));
  app = await startTestApp({ WORKER: 'true', WORKER_CONCURRENCY: '25', WORKER_POLL_INTERVAL_MS: '100', STORAGE_DIR: storageDir }, { jobs: definitions });
  const hierarchy = await makeHierarchy(app.tenancy, 2);
  // 10 clinics with their own database, 40 with a schema in the shared database.
  clinics = await mapLimit(Array.from({ length: 50 }, (_, i) => i), 4, (i) =>
    makeClinic(app.tenancy, hierarchy.groups[i % 2]!, i < 10 ? 'DATABASE' : 'SCHEMA', { clusterYears: [] }),
  );
  await mapLimit(clinics, 8, async (clinic) => {
    const lease = app.tenancy.registry.lease(app.tenancy.strategyFor(clinic).connectionTarget(clinic), 'tenant');
    try {
      await lease.client.patient.create({ data: { mrn: `MARK-${clinic.key}`, firstName: 'Marker', lastName: clinic.key } });
    } finally {
      lease.release();
    }
    await app.runtime.files.forTenant(clinic.id).write(`markers/${clinic.key}`, clinic.id);
    // The same key in every tenant's cache, each holding its own tenant's key.
    await app.runtime.cache.forTenant(clinic.id).set('marker', clinic.key);
  });
  adminToken = await app.token({ subject: 'landlord', tenantId: null, roles: ['system_admin'] });
  tenantAdminToken = await app.token({ subject: 'clinic-admin', tenantId: clinics[0]!.id, roles: ['admin'] });
}, 180_000);
afterAll(async () => {
  await app?.stop();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
});

const asAdmin = () => ({ authorization: `Bearer ${adminToken}` });

describe('1,000 jobs of 50 tenants on one worker', () => {
  it('each job sees and writes only its own tenant', async () => {
    const plan = Array.from({ length: 1000 }, (_, index) => ({ index, clinic: clinics[index % clinics.length]! }));
    // Shuffled, so consecutive jobs belong to different tenants in no fixed pattern.
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }
    await mapLimit(plan, 8, ({ index, clinic }) => app.jobs.enqueue(clinic.id, markerJob, { index }));
    await waitUntil('1,000 marker jobs ran', () => seen.size === 1000, 55_000).catch(async (error: Error) => {
      const states = await app.central.pool.query(`SELECT state::text, count(*)::int AS n, (array_agg(output->>'message'))[1:3] AS errors FROM pgboss.job WHERE name = 'test.marker' GROUP BY state`);
      throw new Error(`${error.message}: ${seen.size} ran; job states ${JSON.stringify(states.rows)}`);
    });

    const byIndex = new Map(plan.map((item) => [item.index, item.clinic]));
    for (const [index, observed] of seen) {
      const clinic = byIndex.get(index)!;
      expect(observed.jobTenantId).toBe(clinic.id);
      expect(observed.scopeTenantId).toBe(clinic.id);
      expect(observed.alsTenantId).toBe(clinic.id);
      expect(observed.principal).toEqual({ kind: 'system', actor: 'job:test.marker' });
      expect(observed.markers).toEqual([`MARK-${clinic.key}`]);
      expect(observed.fileMarkers).toEqual([clinic.key]);
      expect(observed.cacheMarker).toBe(clinic.key);
      expect(observed.ownFile).toBe(clinic.id);
    }
    // And every write landed in its own tenant: each clinic holds exactly its jobs' rows.
    await mapLimit(clinics, 8, async (clinic) => {
      const lease = app.tenancy.registry.lease(app.tenancy.strategyFor(clinic).connectionTarget(clinic), 'tenant');
      try {
        const rows = await lease.client.patient.findMany({ where: { mrn: { startsWith: 'JOB-' } }, select: { mrn: true } });
        const expected = plan.filter((item) => item.clinic.id === clinic.id).map((item) => `JOB-${item.index}`);
        expect(rows.map((row) => row.mrn).sort()).toEqual(expected.sort());
        const files = await app.runtime.files.forTenant(clinic.id).list('jobs');
        expect(files.sort()).toEqual(expected.map((mrn) => `${mrn.slice(4)}.txt`).sort());
      } finally {
        lease.release();
      }
    });
    const completed = await app.jobs.list({ name: 'test.marker', state: 'completed' }, 100);
    expect(completed.jobs.length).toBe(100);
  }, 90_000);
});

describe('the job context', () => {
  it('is released when the job is over', async () => {
    const id = (await app.jobs.enqueue(clinics[8]!.id, keepingJob, {}))!;
    await waitUntil('the job ran', () => ran.has(id));
    expect(keptContext!.principal).toEqual({ kind: 'system', actor: 'job:test.keeps-context' });
    await waitUntil('the scope is released', () => {
      try {
        void keptContext!.files;
        return false;
      } catch (error) {
        return /was released/.test((error as Error).message);
      }
    }, 5_000);
  });
});

describe('failures and retries', () => {
  it('a job that throws is retried with its attempts counted, then shows as FAILED to a system admin over HTTP', async () => {
    const id = (await app.jobs.enqueue(clinics[1]!.id, failingJob, {}))!;
    await waitUntil('the failing job has no retries left', async () => (await app.jobs.get(id))?.state === 'failed', 30_000);
    expect(failingAttempts.get(id)).toEqual([1, 2, 3]);

    const { body } = await app.gql<{ jobs: { edges: { node: Record<string, unknown> }[] } }>(
      `query($filter: JobFilter) { jobs(filter: $filter) { edges { node { id name tenantId state attempts retryLimit error completedAt } } } }`,
      { filter: { state: 'FAILED', name: 'test.always-fails' } },
      asAdmin(),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.jobs.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ id, name: 'test.always-fails', tenantId: clinics[1]!.id, state: 'FAILED', attempts: 3, retryLimit: 2, error: 'attempt 3 failed on purpose' }),
    ]);

    // retryJob gives it one more attempt.
    const retried = await app.gql<{ retryJob: { id: string; state: string } }>('mutation($id: ID!) { retryJob(id: $id) { id state } }', { id }, asAdmin());
    expect(retried.body.errors).toBeUndefined();
    expect(retried.body.data!.retryJob).toEqual({ id, state: 'RETRY' });
    await waitUntil('the retried job failed again', () => (failingAttempts.get(id) ?? []).length === 4, 15_000);
    await waitUntil('the retried job is FAILED again', async () => (await app.jobs.get(id))?.state === 'failed');
  }, 60_000);

  it('retryJob refuses a job that did not fail, and an unknown id', async () => {
    const done = (await app.jobs.list({ name: 'test.marker', state: 'completed' }, 1)).jobs[0]!.record;
    const conflict = await app.gql('mutation($id: ID!) { retryJob(id: $id) { id } }', { id: done.id }, asAdmin());
    expect(conflict.body.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const missing = await app.gql('mutation($id: ID!) { retryJob(id: $id) { id } }', { id }, asAdmin());
      expect(missing.body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });
});

describe('jobs of deleted tenants', () => {
  it('are completed with a reason and never run: status DELETED, deleted_at set, row gone, or deleted after queueing', async () => {
    const [statusDeleted, softDeleted, deletedLater] = [clinics[47]!, clinics[48]!, clinics[49]!];
    await app.central.pool.query(`UPDATE tenants SET status = 'DELETED' WHERE id = $1`, [statusDeleted.id]);
    await app.central.pool.query('UPDATE tenants SET deleted_at = now() WHERE id = $1', [softDeleted.id]);
    const ids = [
      (await app.jobs.enqueue(statusDeleted.id, recordingJob, { note: 'status deleted' }))!,
      (await app.jobs.enqueue(softDeleted.id, recordingJob, { note: 'soft-deleted' }))!,
      (await app.jobs.enqueue('0f0e0d0c-0b0a-4000-8000-000000000001', recordingJob, { note: 'no such tenant' }))!,
      (await app.jobs.enqueue(deletedLater.id, recordingJob, { note: 'deleted after queueing' }, { startAfter: new Date(Date.now() + 1500) }))!,
    ];
    await app.central.pool.query('UPDATE tenants SET deleted_at = now() WHERE id = $1', [deletedLater.id]);
    await waitUntil('all four are settled', async () => (await Promise.all(ids.map((id) => app.jobs.get(id)))).every((job) => job?.state === 'completed'), 20_000);
    for (const id of ids) {
      expect(ran.has(id)).toBe(false);
      expect((await app.jobs.get(id))!.discardedReason).toBe('The tenant was deleted; the job did not run');
    }
    // A live tenant's job of the same kind runs.
    const live = (await app.jobs.enqueue(clinics[2]!.id, recordingJob, { note: 'live' }))!;
    await waitUntil('the live job ran', () => ran.has(live));
  });
});

describe('enqueue in the caller transaction', () => {
  it('a rolled back transaction leaves no job; a committed one does', async () => {
    const client = await app.central.pool.connect();
    let rolledBack: string;
    let committed: string;
    try {
      await client.query('BEGIN');
      rolledBack = (await app.jobs.enqueue(clinics[3]!.id, recordingJob, { note: 'rolled back' }, { db: client }))!;
      // Visible inside the transaction, invisible outside it.
      expect((await client.query('SELECT 1 FROM pgboss.job WHERE id = $1', [rolledBack])).rowCount).toBe(1);
      expect(await app.jobs.get(rolledBack)).toBeUndefined();
      await client.query('ROLLBACK');

      await client.query('BEGIN');
      committed = (await app.jobs.enqueue(clinics[3]!.id, recordingJob, { note: 'committed' }, { db: client }))!;
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await waitUntil('the committed job ran', () => ran.has(committed));
    expect(await app.jobs.get(rolledBack)).toBeUndefined();
    expect(ran.has(rolledBack)).toBe(false);
  });
});

describe('singleton, central and scheduled jobs', () => {
  it('a singleton job waits once per tenant; another tenant gets its own', async () => {
    const later = { startAfter: new Date(Date.now() + 60_000) };
    const first = await app.jobs.enqueue(clinics[4]!.id, singletonJob, {}, later);
    const duplicate = await app.jobs.enqueue(clinics[4]!.id, singletonJob, {}, later);
    const otherTenant = await app.jobs.enqueue(clinics[5]!.id, singletonJob, {}, later);
    expect(first).toEqual(expect.any(String));
    expect(duplicate).toBeNull();
    expect(otherTenant).toEqual(expect.any(String));
  });

  it('a central job runs without a tenant; cron schedules are stored for central jobs only', async () => {
    const id = (await app.jobs.enqueueCentral(centralJob, { note: 'landlord work' }))!;
    await waitUntil('the central job ran', () => centralRuns.some((run) => run.note === 'landlord work'));
    expect(centralRuns.find((run) => run.note === 'landlord work')).toEqual({
      note: 'landlord work',
      level: 'CENTRAL',
      alsLevel: 'CENTRAL',
      principal: { kind: 'system', actor: 'job:test.central' },
    });
    await waitUntil('the central job is completed', async () => (await app.jobs.get(id))?.state === 'completed');
    expect((await app.jobs.get(id))!.tenantId).toBeNull();

    await app.jobs.schedule(centralJob, '*/5 * * * *', { note: 'every five minutes' });
    const { rows } = await app.central.pool.query('SELECT cron, data FROM pgboss.schedule WHERE name = $1', ['test.central']);
    expect(rows).toEqual([{ cron: '*/5 * * * *', data: { payload: { note: 'every five minutes' } } }]);
    await app.jobs.unschedule(centralJob);
    await expect(app.jobs.schedule('test.marker', '* * * * *')).rejects.toThrow(/tenant job/);
    await expect(app.jobs.enqueue(clinics[0]!.id, 'test.unknown', {})).rejects.toThrow(/Unknown job/);
    await expect(app.jobs.enqueue('not-a-tenant', recordingJob, { note: 'x' })).rejects.toThrow(/not a tenant id/);
  });
});

describe('the jobs API is for system admins only', () => {
  it('answers FORBIDDEN to a tenant admin and UNAUTHENTICATED to an anonymous caller, changing nothing', async () => {
    const failed = (await app.jobs.list({ state: 'failed' }, 1)).jobs[0]!.record;
    const tenantAdmin = { authorization: `Bearer ${tenantAdminToken}` };
    const list = await app.gql('{ jobs { edges { node { id } } } }', {}, tenantAdmin);
    expect(list.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(list.status).toBe(403);
    const retry = await app.gql('mutation($id: ID!) { retryJob(id: $id) { id } }', { id: failed.id }, tenantAdmin);
    expect(retry.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const anonymous = await app.gql('{ jobs { edges { node { id } } } }', {});
    expect(anonymous.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await app.jobs.get(failed.id))!.state).toBe('failed');
  });

  it('filters by tenant and pages with cursors; bad filters are BAD_USER_INPUT', async () => {
    const clinic = clinics[7]!;
    const query = `query($filter: JobFilter, $after: String) { jobs(filter: $filter, first: 7, after: $after) { edges { cursor node { id tenantId name } } pageInfo { hasNextPage endCursor } } }`;
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { body: { data?: { jobs: { edges: { node: { id: string; tenantId: string; name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } } =
        await app.gql(query, { filter: { tenantId: clinic.id, name: 'test.marker' }, after }, asAdmin());
      const jobs = page.body.data!.jobs;
      expect(jobs.edges.every((edge) => edge.node.tenantId === clinic.id && edge.node.name === 'test.marker')).toBe(true);
      ids.push(...jobs.edges.map((edge) => edge.node.id));
      if (!jobs.pageInfo.hasNextPage) break;
      after = jobs.pageInfo.endCursor;
    }
    expect(ids.length).toBe(20); // 1,000 jobs over 50 clinics
    expect(new Set(ids).size).toBe(20);
    for (const filter of [{ tenantId: 'nope' }, { name: 'Bad Name!' }]) {
      const bad = await app.gql(query, { filter }, asAdmin());
      expect(bad.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
    const foreignCursor = Buffer.from(JSON.stringify(['central', 'x'])).toString('base64url');
    const badCursor = await app.gql(query, { after: foreignCursor }, asAdmin());
    expect(badCursor.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('stopping the worker', () => {
  it('drains: running jobs finish before stopWorker resolves, and nothing new starts', async () => {
    const id = (await app.jobs.enqueue(clinics[6]!.id, slowJob, { ms: 800 }))!;
    await waitUntil('the slow job is running', async () => (await app.jobs.get(id))?.state === 'active');
    await app.jobs.stopWorker();
    expect(ran.has(id)).toBe(true);
    expect((await app.jobs.get(id))!.state).toBe('completed');
    const after = (await app.jobs.enqueue(clinics[6]!.id, slowJob, { ms: 1 }))!;
    await sleep(500);
    expect((await app.jobs.get(after))!.state).toBe('created');
  });

  it('WORKER=false: a server that queues jobs but runs none', async () => {
    const apiOnly = await startTestApp({ WORKER: 'false', STORAGE_DIR: storageDir }, { jobs: definitions });
    try {
      const id = (await apiOnly.jobs.enqueue(clinics[6]!.id, recordingJob, { note: 'api only' }))!;
      await sleep(700);
      expect((await apiOnly.jobs.get(id))!.state).toBe('created');
      expect(ran.has(id)).toBe(false);
    } finally {
      await apiOnly.stop();
    }
  });
});
