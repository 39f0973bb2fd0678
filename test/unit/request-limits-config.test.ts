import { type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { clientIp, rateLimitNamespace } from '../../src/infra/rate-limits.js';

describe('request limit settings', () => {
  it('has the documented defaults', () => {
    const { limits } = parseConfig({});
    expect(limits).toEqual({
      maxTokens: 5000,
      maxDirectives: 50,
      user: { depth: 12, aliases: 30, fields: 500, cost: 50_000 },
      anonymous: { depth: 8, aliases: 10, fields: 200, cost: 1000 },
      timeoutMs: 10_000,
      rate: { anonymousPerMinute: 600, authFailuresPerMinute: 120, principalPerMinute: 1200 },
      trustProxy: 0,
    });
  });

  it('never lets an anonymous limit exceed the general one', () => {
    const { limits } = parseConfig({ GRAPHQL_MAX_DEPTH: '5', GRAPHQL_ANONYMOUS_MAX_DEPTH: '9', GRAPHQL_ANONYMOUS_MAX_COST: '99999999' });
    expect(limits.anonymous.depth).toBe(5);
    expect(limits.anonymous.cost).toBe(50_000);
  });

  it('refuses nonsense with the variable named', () => {
    expect(() => parseConfig({ GRAPHQL_MAX_COST: '0' })).toThrow(/GRAPHQL_MAX_COST: expected a number above 0/);
    expect(() => parseConfig({ TRUST_PROXY: 'yes' })).toThrow(/TRUST_PROXY: expected the number of proxies/);
  });

  it('keeps rate-limit counters of installations apart by central database', () => {
    expect(rateLimitNamespace(parseConfig({ DATABASE_URL: 'postgres://u:secret@db:5433/central' }))).toBe('db-5433-central');
    expect(rateLimitNamespace(parseConfig({}))).toBe('embedded-54329');
  });
});

describe('client IP', () => {
  const request = (forwardedFor?: string) =>
    ({ socket: { remoteAddress: '10.0.0.9' }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

  it('ignores X-Forwarded-For unless proxies are trusted (a client cannot choose its bucket)', () => {
    expect(clientIp(request('1.2.3.4'), 0)).toBe('10.0.0.9');
  });

  it('takes the entry the outermost trusted proxy wrote, never one further left', () => {
    expect(clientIp(request('6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientIp(request('6.6.6.6, 1.2.3.4, 10.1.1.1'), 2)).toBe('1.2.3.4');
    expect(clientIp(request(), 1)).toBe('10.0.0.9');
  });
});
