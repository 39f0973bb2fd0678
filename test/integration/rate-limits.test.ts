/**
 * Rate limits over real HTTP (Redis-backed when the run has Redis). Each test speaks from its own
 * made-up client address (TRUST_PROXY=1 + X-Forwarded-For), so counters never mix with other
 * tests that share this Redis and run from 127.0.0.1.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, mapLimit } from '../helpers/tenants.js';

let app: TestApp;
let clinicId: string;

const someIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

beforeAll(async () => {
  app = await startTestApp({
    TRUST_PROXY: '1',
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '20',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '30',
    RATE_LIMIT_PRINCIPAL_PER_MINUTE: '40',
  });
  const hierarchy = await makeHierarchy(app.tenancy);
  clinicId = (await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA')).id;
});
afterAll(() => app?.stop());

describe('rate limits', () => {
  it('answers 2,000 forged-token requests 401 up to the failure limit, then 429 with Retry-After', async () => {
    const ip = someIp();
    const forged = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWZvcmdlZA';
    const started = performance.now();
    const answers = await mapLimit(Array.from({ length: 2000 }), 50, () =>
      app.gql('{ me { subject } }', undefined, { authorization: forged, 'x-forwarded-for': ip }),
    );
    const seconds = (performance.now() - started) / 1000;
    const codes = answers.map((answer) => answer.body.errors?.[0]?.extensions?.code);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(20);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(1980);
    const limited = answers.find((answer) => answer.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(seconds).toBeLessThan(60);
    // A valid token from the same address is not held back by the failures.
    const token = await app.token({ subject: 'good-user', tenantId: clinicId, roles: ['admin'] });
    const good = await app.gql('{ me { subject } }', undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': ip });
    expect(good.status).toBe(200);
  });

  it('limits anonymous requests per client address', async () => {
    const ip = someIp();
    const answers = await mapLimit(Array.from({ length: 35 }), 5, () => app.gql('{ serverInfo { version } }', undefined, { 'x-forwarded-for': ip }));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(30);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(5);
    // Once over, the address's 1 MB documents are refused by the HTTP handler before their body is
    // read (its answers carry the request id; Apollo's would not), not by the parser.
    const huge = await app.gql(`{ me { ${'subject '.repeat(120_000)}} }`, undefined, { 'x-forwarded-for': ip });
    expect(huge.status).toBe(429);
    expect(huge.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', requestId: expect.any(String) });
    expect(Number(huge.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another address is unaffected; only the last X-Forwarded-For entry (what our proxy saw) counts.
    const other = await app.gql('{ serverInfo { version } }', undefined, { 'x-forwarded-for': `${ip}, ${someIp()}` });
    expect(other.status).toBe(200);
  });

  it('limits authenticated requests per principal, whatever the address', async () => {
    const token = await app.token({ subject: `busy-${randomInt(1e9)}`, tenantId: clinicId, roles: ['admin'] });
    const answers = await mapLimit(Array.from({ length: 45 }), 5, () =>
      app.gql('{ me { subject } }', undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': someIp() }),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(40);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(5);
    const other = await app.token({ subject: `calm-${randomInt(1e9)}`, tenantId: clinicId, roles: ['admin'] });
    expect((await app.gql('{ me { subject } }', undefined, { authorization: `Bearer ${other}` })).status).toBe(200);
  });
});
