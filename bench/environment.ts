/**
 * Where the bench keeps its data and how its servers are configured. Everything the bench makes
 * lives under its own names (central `tg_bench`, tenants `bench_*`, shared `tg_bench_tenants`), so
 * it never touches a developer's or a test run's databases, and `--fresh` can drop it safely.
 */
import { randomBytes } from 'node:crypto';

export type BenchEnvironment = {
  /** Central (landlord) database of the bench. */
  databaseUrl: string;
  /** A URL of the same server's `postgres` database (CREATE/DROP DATABASE, pg_stat_*). */
  maintenanceUrl: string;
  redisUrl: string;
  /** Prefix of tenant databases and schemas (TENANT_DATABASE_PREFIX). */
  storagePrefix: string;
  sharedTenantsDatabase: string;
  /** HS256 secret shared by the bench (minting) and the server under test; new each run. */
  jwtSecret: string;
  /** TENANCY_ENCRYPTION_KEYS: fixed, since the bench database (and the secrets in it) outlive a run. */
  encryptionKeys: string;
  jwt: { keyId: string; issuer: string; audience: string };
};

export function benchEnvironment(env: NodeJS.ProcessEnv = process.env): BenchEnvironment {
  const databaseUrl = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tg_bench';
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  return {
    databaseUrl,
    maintenanceUrl: maintenance.toString(),
    // Database 1, not 0: the directory cache keys of test runs on the same Redis stay apart.
    // (Pub/sub is server-wide, so a test run's invalidation messages still reach the bench server.)
    redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/1',
    storagePrefix: 'bench_',
    sharedTenantsDatabase: 'tg_bench_tenants',
    jwtSecret: randomBytes(36).toString('base64url'),
    encryptionKeys: `bench:${Buffer.alloc(32, 0x42).toString('base64')}`,
    jwt: { keyId: 'k1', issuer: 'tenantgraph', audience: 'tenantgraph-api' },
  };
}

/**
 * Environment of a tenantgraph child process. Built from scratch rather than inherited, so a
 * developer's DATABASE_URL or .env settings cannot leak into the server under test.
 */
export function serverEnv(bench: BenchEnvironment, port: number, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...baseProcessEnv(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_URL: bench.databaseUrl,
    REDIS_URL: bench.redisUrl,
    JWT_SECRET: bench.jwtSecret,
    TENANCY_ENCRYPTION_KEYS: bench.encryptionKeys,
    JWT_KEY_ID: bench.jwt.keyId,
    JWT_ISSUER: bench.jwt.issuer,
    JWT_AUDIENCE: bench.jwt.audience,
    DEMO_DATA: 'false',
    GRAPHQL_INTROSPECTION: 'false',
    TENANT_DATABASE_PREFIX: bench.storagePrefix,
    TENANTS_SHARED_DATABASE: bench.sharedTenantsDatabase,
    // A load generator is not a frontend: one token sends thousands of requests a second. The
    // limiter still counts every request (its cost is measured), it just never refuses.
    RATE_LIMIT_PRINCIPAL_PER_MINUTE: '1000000000',
    // BENCH_GRAPHQL_JIT=true|false: measure tenantgraph with or without graphql-jit (default: its own default).
    ...(process.env.BENCH_GRAPHQL_JIT ? { GRAPHQL_JIT: process.env.BENCH_GRAPHQL_JIT } : {}),
    // BENCH_DB_POOL_ADAPTIVE=true|false: the registry's adaptive per-pool cap and eviction.
    ...(process.env.BENCH_DB_POOL_ADAPTIVE ? { DB_POOL_ADAPTIVE: process.env.BENCH_DB_POOL_ADAPTIVE } : {}),
    ...overrides,
  };
}

/** PATH and HOME only: enough for node to run, nothing that configures the server. */
export function baseProcessEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}
