import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('parseConfig', () => {
  it('gives typed defaults and the embedded database when DATABASE_URL is unset', () => {
    const config = parseConfig({});
    expect(config.http.port).toBe(4000);
    expect(config.env).toBe('development');
    expect(config.migrateOnStart).toBe(true);
    expect(config.graphql).toEqual({ introspection: true, sandbox: true, jit: false, jitCompileAfter: 2 });
    expect(config.database).toEqual({ kind: 'embedded', port: 54329, dataDir: '.data/postgres', centralPoolMax: 10 });
  });

  it('uses DATABASE_URL when set and treats empty strings as unset', () => {
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/central' }).database.kind).toBe('external');
    expect(parseConfig({ DATABASE_URL: '' }).database.kind).toBe('embedded');
  });

  it('turns introspection and Sandbox off in production unless asked for', () => {
    const secret = { JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://u@db:5432/central', TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };
    expect(parseConfig({ NODE_ENV: 'production', ...secret }).graphql).toEqual({ introspection: false, sandbox: false, jit: false, jitCompileAfter: 2 });
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

  it('invitations: 72 hours and no URL by default; the TTL is 1..720 hours, the URL absolute http(s) without a fragment', () => {
    expect(parseConfig({}).auth).toMatchObject({ invitationTtlHours: 72, invitationUrl: undefined });
    expect(parseConfig({ INVITATION_TTL_HOURS: '24', INVITATION_URL: 'https://app.example.com/invite' }).auth).toMatchObject({
      invitationTtlHours: 24,
      invitationUrl: 'https://app.example.com/invite',
    });
    expect(() => parseConfig({ INVITATION_TTL_HOURS: '0' })).toThrow(/INVITATION_TTL_HOURS: expected a number above 0/);
    expect(() => parseConfig({ INVITATION_TTL_HOURS: '721' })).toThrow(/INVITATION_TTL_HOURS: expected at most 720 hours/);
    expect(() => parseConfig({ INVITATION_URL: 'app.example.com/invite' })).toThrow(/INVITATION_URL: expected an absolute URL/);
    expect(() => parseConfig({ INVITATION_URL: 'https://app.example.com/#/invite' })).toThrow(/INVITATION_URL: expected an http\(s\) URL without a #fragment/);
    expect(() => parseConfig({ INVITATION_URL: 'javascript:alert(1)' })).toThrow(/INVITATION_URL/);
  });

  it('runs the job worker in the server unless WORKER=false', () => {
    expect(parseConfig({}).jobs).toEqual({ worker: true, concurrency: 10, pollIntervalMs: 1000 });
    expect(parseConfig({ WORKER: 'false', WORKER_CONCURRENCY: '3', WORKER_POLL_INTERVAL_MS: '250' }).jobs).toEqual({ worker: false, concurrency: 3, pollIntervalMs: 250 });
    expect(() => parseConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY: expected a number above 0/);
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

describe('sign-in configuration', () => {
  const long = 'x'.repeat(32);
  const tenancyKeys = `k1:${Buffer.alloc(32, 3).toString('base64')}`;
  it('parses the JWT key ring newest first and refuses short secrets and repeated kids', () => {
    expect(parseConfig({ JWT_KEYS: `k2=${long}y, k1=${long}` }).jwt.keys).toEqual([
      { kid: 'k2', secret: `${long}y` },
      { kid: 'k1', secret: long },
    ]);
    expect(() => parseConfig({ JWT_KEYS: 'k1=short' })).toThrow(/JWT_KEYS: expected comma-separated kid=secret pairs/);
    expect(() => parseConfig({ JWT_KEYS: `k1=${long},k1=${long}` })).toThrow(/JWT_KEYS: expected each kid once/);
    // A ring is enough in production.
    expect(parseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/c', TENANCY_ENCRYPTION_KEYS: tenancyKeys, JWT_KEYS: `k1=${long}` }).isProduction).toBe(true);
  });

  it('requires two-factor sign-in for system admins in production unless turned off, and checks the encryption key', () => {
    expect(parseConfig({}).auth.requireAdmin2fa).toBe(false);
    expect(parseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/c', TENANCY_ENCRYPTION_KEYS: tenancyKeys, JWT_SECRET: long }).auth.requireAdmin2fa).toBe(true);
    expect(parseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/c', TENANCY_ENCRYPTION_KEYS: tenancyKeys, JWT_SECRET: long, REQUIRE_ADMIN_2FA: 'false' }).auth.requireAdmin2fa).toBe(false);
    expect(parseConfig({}).auth).toMatchObject({ loginMaxFailures: 5, loginLockSeconds: 900, refreshTokenTtlSeconds: 2_592_000 });
    expect(() => parseConfig({ ENCRYPTION_KEY: 'dG9vIHNob3J0' })).toThrow(/ENCRYPTION_KEY: expected 32 bytes in base64/);
    // A wrong key is still a key: the message names the variable, never its value.
    expect(() => parseConfig({ ENCRYPTION_KEY: 'dG9vIHNob3J0' })).not.toThrow(/dG9vIHNob3J0/);
    expect(parseConfig({ ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).auth.encryptionKey).toBeTruthy();
  });
});

describe('operations configuration', () => {

  describe('embedded PostgreSQL in production', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };

    it('refuses to start without DATABASE_URL, in one line naming the fix', () => {
      const attempt = () => parseConfig(production);
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/^Invalid configuration: DATABASE_URL: required when NODE_ENV=production .*set EMBEDDED_POSTGRES=true to run it anyway\.$/);
      expect(() => parseConfig({ ...production, EMBEDDED_POSTGRES: 'false' })).toThrow(/DATABASE_URL: required when EMBEDDED_POSTGRES=false/);
    });

    it('runs the embedded server only when EMBEDDED_POSTGRES=true says so', () => {
      expect(parseConfig({ ...production, EMBEDDED_POSTGRES: 'true' }).database.kind).toBe('embedded');
      expect(parseConfig({ ...production, DATABASE_URL: 'postgres://u@db:5432/central' }).database.kind).toBe('external');
    });

    it('keeps the embedded default outside production, unless turned off', () => {
      expect(parseConfig({}).database.kind).toBe('embedded');
      expect(() => parseConfig({ EMBEDDED_POSTGRES: 'false' })).toThrow(/DATABASE_URL: required when EMBEDDED_POSTGRES=false/);
    });
  });

  describe('CORS_ORIGINS', () => {
    it('takes exact origins and refuses paths, other schemes and trailing slashes', () => {
      expect(parseConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
      expect(parseConfig({}).cors.origins).toEqual([]);
      for (const bad of ['https://app.example.com/', 'https://app.example.com/path', 'ftp://x.example.com', 'app.example.com']) {
        expect(() => parseConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS: expected \* or comma-separated origins/);
      }
    });

    it('allows * outside production only', () => {
      expect(parseConfig({ CORS_ORIGINS: '*' }).cors.origins).toEqual(['*']);
      expect(() => parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://u@db/c', TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`, CORS_ORIGINS: '*' })).toThrow(
        /CORS_ORIGINS: `\*` is refused when NODE_ENV=production/,
      );
    });
  });

  it('reads the metrics settings, with no tenant labels by default', () => {
    expect(parseConfig({}).metrics).toEqual({ token: undefined, tenantLabels: 0, warnAcquireMs: 1000, warnRssBytes: 1536 * 1024 * 1024, warnPoolSaturation: 0.9 });
    expect(() => parseConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: expected at least 16 characters/);
    expect(() => parseConfig({ WARN_POOL_SATURATION: '1.5' })).toThrow(/WARN_POOL_SATURATION: expected at most 1/);
    expect(parseConfig({ METRICS_TENANT_LABELS: '20' }).metrics.tenantLabels).toBe(20);
  });
  it('routes only verified custom domains in production unless REQUIRE_VERIFIED_DOMAINS says otherwise', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/c', TENANCY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`, JWT_SECRET: 'x'.repeat(32) };
    expect(parseConfig({}).tenancy.requireVerifiedDomains).toBe(false);
    expect(parseConfig({ REQUIRE_VERIFIED_DOMAINS: 'true' }).tenancy.requireVerifiedDomains).toBe(true);
    expect(parseConfig(production).tenancy.requireVerifiedDomains).toBe(true);
    expect(parseConfig({ ...production, REQUIRE_VERIFIED_DOMAINS: 'false' }).tenancy.requireVerifiedDomains).toBe(false);
    expect(() => parseConfig({ REQUIRE_VERIFIED_DOMAINS: 'maybe' })).toThrow(/REQUIRE_VERIFIED_DOMAINS: expected true or false/);
  });
});
