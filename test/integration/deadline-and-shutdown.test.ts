/**
 * The execution deadline and shutdown, over real HTTP: a request past GRAPHQL_TIMEOUT_MS is
 * answered TIMEOUT (503) and its statement is cancelled at PostgreSQL; on shutdown, requests
 * still running after SHUTDOWN_TIMEOUT_MS are answered SHUTTING_DOWN (503), none is cut.
 * A test-only middleware makes `patients(search: "sleep:<marker>:<seconds>")` run pg_sleep on
 * the tenant's own connection first, and `search: "wait:<ms>"` wait in JavaScript.
 */
import { randomBytes } from 'node:crypto';
import { type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestContext } from '../../src/context/request-context.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

type Resolve = (root: unknown, args: Record<string, unknown>, context: RequestContext, info: unknown) => unknown;

function withSlowPatients(schema: GraphQLSchema): GraphQLSchema {
  const slow = async (resolve: Resolve, root: unknown, args: Record<string, unknown>, context: RequestContext, info: unknown) => {
    const search = typeof args.search === 'string' ? args.search : '';
    const sleep = /^sleep:([a-z0-9]+):(\d+(?:\.\d+)?)$/.exec(search);
    if (sleep) await context.db.tenant().$queryRawUnsafe(`SELECT pg_sleep(${Number(sleep[2])}) /* ${sleep[1]} */`);
    const wait = /^wait:(\d+)$/.exec(search);
    if (wait) await new Promise((done) => setTimeout(done, Number(wait[1])));
    return resolve(root, { ...args, search: null }, context, info);
  };
  return applyMiddleware(schema, { Query: { patients: slow as never } });
}

const PATIENTS = 'query($search: String) { patients(search: $search) { edges { node { id } } } }';

/** Statements still running with `marker` in their text, on the whole PostgreSQL server. */
async function running(app: TestApp, marker: string): Promise<number> {
  const { rows } = await app.central.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
    [`%pg_sleep%/* ${marker} */%`],
  );
  return rows[0]!.n;
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((done) => setTimeout(done, 50));
  }
  return check();
}

async function clinicToken(app: TestApp): Promise<Record<string, string>> {
  const hierarchy = await makeHierarchy(app.tenancy);
  const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
  return { authorization: `Bearer ${await app.token({ subject: 'slow-user', tenantId: clinic.id, roles: ['admin'] })}` };
}

describe('execution deadline', () => {
  let app: TestApp;
  let auth: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ GRAPHQL_TIMEOUT_MS: '1000' }, { wrapSchema: withSlowPatients });
    auth = await clinicToken(app);
  });
  afterAll(() => app?.stop());

  it('answers TIMEOUT (503) past GRAPHQL_TIMEOUT_MS and cancels the statement at PostgreSQL', async () => {
    const marker = `t${randomBytes(6).toString('hex')}`;
    const started = performance.now();
    const answer = await app.gql(PATIENTS, { search: `sleep:${marker}:30` }, auth);
    const ms = performance.now() - started;
    expect(answer.status).toBe(503);
    expect(answer.body.errors![0]!.extensions).toMatchObject({ code: 'TIMEOUT' });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5000);
    // The 30 s sleep is gone from PostgreSQL, not left running behind the answer.
    expect(await eventually(async () => (await running(app, marker)) === 0, 3000)).toBe(true);
    // The tenant's connections are usable again: the next request is served.
    const next = await app.gql(PATIENTS, {}, auth);
    expect(next.status).toBe(200);
    expect(next.body.errors).toBeUndefined();
  });

  it('serves requests under the deadline as before', async () => {
    const answer = await app.gql(PATIENTS, { search: 'wait:100' }, auth);
    expect(answer.status).toBe(200);
  });
});

describe('shutdown', () => {
  it('lets short requests finish, answers the 40 still running SHUTTING_DOWN, drops no socket', async () => {
    const app = await startTestApp({ SHUTDOWN_TIMEOUT_MS: '1500', DB_POOL_MAX: '50' }, { wrapSchema: withSlowPatients });
    try {
      const auth = await clinicToken(app);
      const marker = `s${randomBytes(6).toString('hex')}`;
      const heavy = Array.from({ length: 40 }, () => app.gql(PATIENTS, { search: `sleep:${marker}:30` }, auth));
      const short = Array.from({ length: 5 }, () => app.gql(PATIENTS, { search: 'wait:500' }, auth));
      expect(await eventually(async () => (await running(app, marker)) === 40, 10_000)).toBe(true);
      const started = performance.now();
      const stopping = app.server.close();
      const answers = await Promise.all([...heavy, ...short]);
      await stopping;
      const ms = performance.now() - started;
      expect(answers.slice(0, 40).map((answer) => [answer.status, answer.body.errors?.[0]?.extensions?.code])).toEqual(
        Array.from({ length: 40 }, () => [503, 'SHUTTING_DOWN']),
      );
      expect(answers.slice(0, 40).every((answer) => answer.headers.get('retry-after') === '1')).toBe(true);
      expect(answers.slice(40).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(ms).toBeLessThan(8000);
      expect(await eventually(async () => (await running(app, marker)) === 0, 3000)).toBe(true);
    } finally {
      await app.stop();
    }
  });
});
