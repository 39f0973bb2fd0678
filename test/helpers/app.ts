import pg from 'pg';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { inject } from 'vitest';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { makeLogger, type Logger } from '../../src/infra/logger.js';
import { mintAccessToken, type AccessTokenClaims } from '../../src/tenancy/identification/access-tokens.js';

export type GqlResult<T> = {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
};

export type TestApp = RunningApp & {
  url: string;
  /** POSTs a GraphQL operation over real HTTP; returns status, headers and parsed body. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  /** An access token signed with this app's keys. */
  token(claims: AccessTokenClaims, options?: { ttlSeconds?: number; now?: Date }): Promise<string>;
};

/** The key ring of test apps (one key, id `t1`); tests of rotation add a newer one in front. */
export const TEST_ENCRYPTION_KEYS = `t1:${Buffer.alloc(32, 7).toString('base64')}`;

/**
 * A central database of the calling file's own, for tests that sweep every row they can see
 * (rotation, purges, placement). Its name carries the run id, so teardown drops it. Returns its URL.
 */
export async function ownCentralDatabase(name: string): Promise<string> {
  const database = `tg_${name}_${inject('runId')}`;
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

/** Environment every test app shares: this run's database, Redis, and storage names. */
export function testEnv(): Record<string, string> {
  const runId = inject('runId');
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: inject('databaseUrl'),
    ...(inject('redisUrl') ? { REDIS_URL: inject('redisUrl')! } : {}),
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    TENANCY_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    DEMO_DATA: 'false',
    // The daily cluster step would make next year's schemas mid-test after 03:00 UTC; tests drive it themselves.
    CLUSTER_PREPARE_CRON: 'off',
    // Likewise the daily purge: tests age their own deleted tenants and purge them themselves.
    TENANT_PURGE_CRON: 'off',
    // Spares change which storage a SCHEMA tenant gets; schema-spares.test.ts turns them on.
    PROVISIONING_SPARES: '0',
    // Test files run in parallel from 127.0.0.1 and share this run's rate-limit counters in Redis:
    // a test about rate limits sets its own low limits and its own client address.
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1000000',
    RATE_LIMIT_PRINCIPAL_PER_MINUTE: '1000000',
    // Everything a test creates on the shared server carries the run id; teardown drops it.
    TENANT_DATABASE_PREFIX: `t_${runId}_`.slice(0, 16),
    TENANTS_SHARED_DATABASE: `tg_shared_${runId}`,
    STORAGE_DIR: inject('storageDir'),
    // `GRAPHQL_JIT=true npx vitest run`: the whole suite executes through graphql-jit, every document compiled at once.
    ...(process.env.GRAPHQL_JIT === 'true' ? { GRAPHQL_JIT: 'true', GRAPHQL_JIT_COMPILE_AFTER: '1' } : {}),
  };
}

/**
 * Starts the whole server on a free port against this run's test database.
 * `options.logger` replaces the default one (e.g. to capture log lines).
 */
export async function startTestApp(env: Record<string, string> = {}, options: StartOptions & { logger?: Logger } = {}): Promise<TestApp> {
  const config = parseConfig({ ...testEnv(), ...env });
  // Each test app counts failed sign-ins under its own Redis keys: tests share Redis and 127.0.0.1.
  const throttleKeyPrefix = `tg:login:test:${inject('runId')}:${randomBytes(4).toString('hex')}`;
  const logger = options.logger ?? makeLogger(config.log.level);
  const app = await startApp(config, logger, { ...options, auth: { throttleKeyPrefix, ...options.auth } });
  const url = `http://127.0.0.1:${app.port}`;
  return {
    ...app,
    url,
    gql: (query, variables, headers = {}) => postJson(app.port, '/graphql', { query, variables }, headers),
    token: (claims, options) => mintAccessToken(app.tokens, claims, options),
  };
}

/** A key (and slug) no other test uses. */
export function uniqueKey(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * POSTs JSON with node:http rather than fetch: fetch silently drops a custom Host header, and
 * tests must choose the host to exercise domain identification.
 */
export function postJson<T>(port: number, path: string, payload: unknown, headers: Record<string, string> = {}): Promise<GqlResult<T>> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') responseHeaders.set(key, value);
          try {
            resolve({ status: response.statusCode ?? 0, headers: responseHeaders, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as never });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 128 });

/** A logger whose lines are kept as written (JSON text), for tests that search them for secrets. */
export function logCapture(level = 'trace'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: makeLogger(level, 'tenantgraph', { destination: { write: (line: string) => void lines.push(line) } }) };
}

/** A logger whose JSON lines are kept in `lines` (parsed), for tests that read the logs. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = makeLogger(level, 'tenantgraph', { destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}
