import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('parseConfig', () => {
  it('gives typed defaults and the embedded database when DATABASE_URL is unset', () => {
    const config = parseConfig({});
    expect(config.http.port).toBe(4000);
    expect(config.env).toBe('development');
    expect(config.migrateOnStart).toBe(true);
    expect(config.graphql).toEqual({ introspection: true, sandbox: true });
    expect(config.database).toEqual({ kind: 'embedded', port: 54329, dataDir: '.data/postgres', centralPoolMax: 10 });
  });

  it('uses DATABASE_URL when set and treats empty strings as unset', () => {
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/central' }).database.kind).toBe('external');
    expect(parseConfig({ DATABASE_URL: '' }).database.kind).toBe('embedded');
  });

  it('turns introspection and Sandbox off in production unless asked for', () => {
    const secret = { JWT_SECRET: 'x'.repeat(32), TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };
    expect(parseConfig({ NODE_ENV: 'production', ...secret }).graphql).toEqual({ introspection: false, sandbox: false });
    expect(parseConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', ...secret }).graphql.introspection).toBe(true);
  });

  it('requires a JWT secret in production, and a long one anywhere', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required when NODE_ENV=production/);
    expect(() => parseConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: expected at least 32 characters/);
  });

  it('names the variable, the problem and the fix in one line per bad value', () => {
    const attempt = () => parseConfig({ PORT: 'http', DATABASE_URL: 'mysql://x' });
    expect(attempt).toThrow(ConfigError);
    const lines = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message.split('\n');
      }
      return [];
    })();
    expect(lines).toHaveLength(2);
    expect(lines.find((line) => line.includes('PORT:'))).toMatch(/PORT: expected a port number \(got "http"\)\. Fix PORT/);
    expect(lines.find((line) => line.includes('DATABASE_URL:'))).toMatch(/expected a URL like postgres:\/\//);
  });

  it('refuses out-of-range ports and non-boolean flags', () => {
    expect(() => parseConfig({ PORT: '70000' })).toThrow(/PORT: expected 0..65535/);
    expect(() => parseConfig({ MIGRATE_ON_START: 'maybe' })).toThrow(/MIGRATE_ON_START: expected true or false/);
  });

  it('returns a frozen object', () => {
    const config = parseConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
  });
  it('bounds token lifetimes: ACCESS_TOKEN_MAX_TTL_SECONDS defaults to 24 h and must cover ACCESS_TOKEN_TTL_SECONDS', () => {
    expect(parseConfig({}).jwt.accessTokenMaxTtlSeconds).toBe(86_400);
    expect(() => parseConfig({ ACCESS_TOKEN_TTL_SECONDS: '7200', ACCESS_TOKEN_MAX_TTL_SECONDS: '3600' })).toThrow(/ACCESS_TOKEN_TTL_SECONDS: 7200 is above ACCESS_TOKEN_MAX_TTL_SECONDS/);
  });
});
