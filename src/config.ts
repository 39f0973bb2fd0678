/**
 * Configuration: the only module that reads `process.env`.
 *
 * Parsed and validated once with zod into a frozen object. A bad value stops the process with one
 * line naming the variable, what is wrong and how to fix it (see `formatConfigError`).
 * Every variable is documented in README.md ("Configuration").
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { KeyRingError, parseKeyRingSpec, type KeyRingEntry } from './infra/crypto/key-ring.js';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole number')
  .min(0, 'expected 0..65535')
  .max(65535, 'expected 0..65535');

const positiveInt = z.coerce.number({ message: 'expected a number' }).int('expected a whole number').positive('expected a number above 0');

const postgresUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected a URL like postgres://user:password@host:5432/database');

const redisUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'redis:' || url.protocol === 'rediss:';
  } catch {
    return false;
  }
}, 'expected a URL like redis://127.0.0.1:6379');

/** Identification strategies, in their default order. */
export const IDENTIFIER_NAMES = ['token', 'domain', 'subdomain', 'header'] as const;
export type IdentifierName = (typeof IDENTIFIER_NAMES)[number];

const hostname = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9.:-]{1,253}$/, 'expected a host name like example.com'));

const hostList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z0-9.:-]{1,253}$/, 'expected comma-separated host names')));

/** `*`, or comma-separated exact origins (`scheme://host[:port]`, as browsers send them in `Origin`). */
const originList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(
    z.array(
      z.string().refine((origin) => {
        if (origin === '*') return true;
        try {
          const url = new URL(origin);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
        } catch {
          return false;
        }
      }, 'expected * or comma-separated origins like https://app.example.com (scheme, host and port only, no path or trailing slash)'),
    ),
  );

const nonNegativeInt = z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more');

const storagePrefix = z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, 'expected lower-case letters, digits and _ (at most 16), starting with a letter');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl.optional(),
  /** Unset: embedded PostgreSQL when DATABASE_URL is unset, except in production (refused there). */
  EMBEDDED_POSTGRES: booleanFromEnv.optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  EMBEDDED_PG_DATA_DIR: z.string().min(1).default('.data/postgres'),
  REDIS_URL: redisUrl.optional(),
  MIGRATE_ON_START: booleanFromEnv.default(true),
  GRAPHQL_INTROSPECTION: booleanFromEnv.optional(),
  GRAPHQL_JIT: booleanFromEnv.default(false),
  GRAPHQL_JIT_COMPILE_AFTER: positiveInt.max(1000).default(2),
  REQUEST_BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  REQUEST_ANONYMOUS_BODY_LIMIT_BYTES: positiveInt.default(65_536),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  CENTRAL_DB_POOL_MAX: positiveInt.default(10),
  CORS_ORIGINS: originList.default([]),
  // Metrics and thresholds
  METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
  METRICS_TENANT_LABELS: nonNegativeInt.max(1000, 'expected at most 1000').default(0),
  WARN_ACQUIRE_MS: positiveInt.default(1000),
  WARN_RSS_MB: positiveInt.default(1536),
  WARN_POOL_SATURATION: z.coerce.number({ message: 'expected a fraction like 0.9' }).gt(0, 'expected a fraction above 0').max(1, 'expected at most 1').default(0.9),
  // Tenancy
  TENANT_IDENTIFIERS: z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(z.enum(IDENTIFIER_NAMES, { message: `expected a comma-separated list of ${IDENTIFIER_NAMES.join(', ')}` })).min(1, 'expected at least one identifier'))
    .default([...IDENTIFIER_NAMES]),
  CENTRAL_DOMAINS: hostList.default(['localhost', '127.0.0.1', '::1']),
  CENTRAL_DOMAIN: hostname.default('localhost'),
  TENANT_CACHE_TTL_MS: positiveInt.default(30_000),
  TENANT_CACHE_MAX: positiveInt.default(10_000),
  TENANT_DATABASE_PREFIX: storagePrefix.default('tenant_'),
  TENANTS_SHARED_DATABASE: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'expected a lower-case database name').default('tenantgraph_tenants'),
  DEMO_DATA: booleanFromEnv.default(true),
  TENANT_DELETE_GRACE_DAYS: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more').default(30),
  /** Unset: true in production, false otherwise. */
  REQUIRE_VERIFIED_DOMAINS: booleanFromEnv.optional(),
  STORAGE_DIR: z.string().min(1).default('storage'),
  CLUSTER_YEARS_MIN: z.coerce.number({ message: 'expected a year' }).int('expected a whole year').min(1900, 'expected a year from 1900').max(2100, 'expected a year up to 2100').default(2000),
  MIGRATIONS_DIR: z.string().min(1).optional(),
  CLUSTER_PREPARE_CRON: z
    .string()
    .regex(/^(off|(\S+\s+){4}\S+)$/, 'expected a 5-field cron expression like "0 3 * * *", or off')
    .default('0 3 * * *'),
  TENANT_PURGE_CRON: z
    .string()
    .regex(/^(off|(\S+\s+){4}\S+)$/, 'expected a 5-field cron expression like "30 3 * * *", or off')
    .default('30 3 * * *'),
  // How often a worker looks for provisionings and hard deletes whose process died (their advisory lock is free).
  PROVISIONING_RECOVERY_INTERVAL_MS: positiveInt.default(10_000),
  // Spare SCHEMA-tenant storage kept ready per database server (provisioning/schema-spares.ts); 0: none.
  PROVISIONING_SPARES: nonNegativeInt.max(100, 'expected at most 100').default(2),
  // Tests only: `step=ms[,step=ms]` makes those provisioning steps sleep first, to widen a kill window.
  PROVISIONING_TEST_STEP_DELAY: z
    .string()
    .regex(/^([a-z-]+=[0-9]+)(,[a-z-]+=[0-9]+)*$/, 'expected step=ms[,step=ms]')
    .optional(),
  CLUSTER_PREPARE_FROM: z
    .string()
    .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/, 'expected a month and day like 12-01')
    .transform((value) => ({ month: Number(value.slice(0, 2)), day: Number(value.slice(3)) }))
    .default({ month: 12, day: 1 }),
  // Secrets at rest: `kid:base64key` (32 bytes), comma-separated, newest first.
  TENANCY_ENCRYPTION_KEYS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseKeyRingSpec(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof KeyRingError ? error.message : 'expected kid:base64key,...' });
        return z.NEVER;
      }
    })
    .optional(),
  // Tokens
  JWT_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. `openssl rand -base64 48`)').optional(),
  JWT_KEY_ID: z.string().min(1).default('k1'),
  JWT_ISSUER: z.string().min(1).default('tenantgraph'),
  JWT_AUDIENCE: z.string().min(1).default('tenantgraph-api'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(3600),
  ACCESS_TOKEN_MAX_TTL_SECONDS: positiveInt.default(86_400),
  JWT_KEYS: z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}=.{32,}$/, 'expected comma-separated kid=secret pairs, each secret at least 32 characters')
            .transform((pair) => ({ kid: pair.slice(0, pair.indexOf('=')), secret: pair.slice(pair.indexOf('=') + 1) })),
        )
        .min(1)
        .refine((keys) => new Set(keys.map((key) => key.kid)).size === keys.length, 'expected each kid once'),
    )
    .optional(),
  // Sign-in (issue 11)
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
  LOGIN_MAX_FAILURES: positiveInt.default(5),
  LOGIN_LOCK_SECONDS: positiveInt.default(900),
  REQUIRE_ADMIN_2FA: booleanFromEnv.optional(),
  // Invitations (docs/auth.md): a token's lifetime, at most 30 days; the sign-up page's address.
  INVITATION_TTL_HOURS: positiveInt.max(720, 'expected at most 720 hours (30 days)').default(72),
  INVITATION_URL: z
    .string()
    .url('expected an absolute URL like https://app.example.com/invite')
    .refine((value) => /^https?:\/\//.test(value) && !value.includes('#'), 'expected an http(s) URL without a #fragment')
    .optional(),
  // Legacy: read-only key for TOTP secrets stored before they joined TENANCY_ENCRYPTION_KEYS.
  ENCRYPTION_KEY: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, 'expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)')
    .optional(),
  // Client registry (DESIGN §3)
  DB_REGISTRY_MAX_CLIENTS: positiveInt.default(1000),
  DB_POOL_MAX: positiveInt.default(5),
  DB_POOL_ADAPTIVE: booleanFromEnv.default(true),
  DB_MAX_CONNECTIONS: positiveInt.default(80),
  DB_ACQUIRE_TIMEOUT_MS: positiveInt.default(5000),
  DB_IDLE_TTL_MS: positiveInt.default(60_000),
  // Jobs (src/infra/jobs)
  WORKER: booleanFromEnv.default(true),
  WORKER_CONCURRENCY: positiveInt.default(10),
  WORKER_POLL_INTERVAL_MS: positiveInt.default(1000),
  // Request limits (docs/security.md)
  GRAPHQL_MAX_TOKENS: positiveInt.default(5000),
  GRAPHQL_MAX_DEPTH: positiveInt.default(12),
  GRAPHQL_MAX_ALIASES: positiveInt.default(30),
  GRAPHQL_MAX_DIRECTIVES: positiveInt.default(50),
  GRAPHQL_MAX_FIELDS: positiveInt.default(500),
  GRAPHQL_MAX_COST: positiveInt.default(50_000),
  GRAPHQL_ANONYMOUS_MAX_DEPTH: positiveInt.default(8),
  GRAPHQL_ANONYMOUS_MAX_ALIASES: positiveInt.default(10),
  GRAPHQL_ANONYMOUS_MAX_COST: positiveInt.default(1000),
  GRAPHQL_ANONYMOUS_MAX_FIELDS: positiveInt.default(200),
  GRAPHQL_TIMEOUT_MS: positiveInt.default(10_000),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: positiveInt.default(600),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: positiveInt.default(120),
  RATE_LIMIT_PRINCIPAL_PER_MINUTE: positiveInt.default(1200),
  TRUST_PROXY: z.coerce.number({ message: 'expected the number of proxies in front of the server (0: none)' }).int('expected a whole number').min(0, 'expected 0 or more').max(10, 'expected at most 10').default(0),
});

type Env = z.infer<typeof envSchema>;

export type Config = Readonly<{
  env: Env['NODE_ENV'];
  isProduction: boolean;
  http: Readonly<{
    port: number;
    host: string;
    bodyLimitBytes: number;
    /** For requests without an Authorization header (sign-in and public reads are small); never above bodyLimitBytes. */
    anonymousBodyLimitBytes: number;
    shutdownTimeoutMs: number;
  }>;
  log: Readonly<{ level: Env['LOG_LEVEL'] }>;
  graphql: Readonly<{ introspection: boolean; sandbox: boolean; /** Execute through graphql-jit (src/graphql-execution/jit-gateway.ts). */ jit: boolean; jitCompileAfter: number }>;
  /** GraphiQL at /graphiql, served from node_modules (works offline): on where Sandbox is. */
  explorer: Readonly<{ graphiql: boolean }>;
  /** Origins allowed to call /graphql from a browser; `*` (never in production) means any. */
  cors: Readonly<{ origins: readonly string[] }>;
  metrics: Readonly<{
    /** When set, /metrics wants `Authorization: Bearer <token>`. */
    token: string | undefined;
    /** Track the N busiest tenants by label (0: no tenant labels at all). */
    tenantLabels: number;
    /** Warn (rate-limited) and count when crossed. */
    warnAcquireMs: number;
    warnRssBytes: number;
    /** Fraction of DB_MAX_CONNECTIONS in use. */
    warnPoolSaturation: number;
  }>;
  database: Readonly<
    | { kind: 'external'; url: string; centralPoolMax: number }
    | { kind: 'embedded'; port: number; dataDir: string; centralPoolMax: number }
  >;
  redisUrl: string | undefined;
  migrateOnStart: boolean;
  /** Keys for secrets at rest, newest first. Unset outside production: a development key is kept in `.data/`. */
  encryptionKeys: readonly KeyRingEntry[] | undefined;
  /** Root of tenant files (`<storageDir>/tenants/<tenantId>/`). */
  storageDir: string;
  tenancy: Readonly<{
    identifiers: readonly IdentifierName[];
    centralDomains: readonly string[];
    /** Tenants are also reached at `<slug>.<centralDomain>`. */
    centralDomain: string;
    cacheTtlMs: number;
    cacheMax: number;
    /** Prefix of tenant database and schema names. */
    storagePrefix: string;
    /** Database holding SCHEMA-isolated tenants, on the central server. */
    sharedTenantsDatabase: string;
    demoData: boolean;
    /** Oldest year requests may read or write (up to next year). */
    clusterYearsMin: number;
    /** From this day of each year (UTC) next year's cluster schemas are made. */
    clusterPrepareFrom: Readonly<{ month: number; day: number }>;
    /** When the yearly cluster step runs (UTC cron), or undefined when off. */
    clusterPrepareCron: string | undefined;
    /** Days a soft-deleted tenant can still be restored. */
    deleteGraceDays: number;
    /** When the worker hard-deletes soft-deleted tenants past the grace period (pg-boss cron); undefined: never. */
    purgeCron: string | undefined;
    /** Only verified custom domains route to their tenant (subdomains of CENTRAL_DOMAIN always do). */
    requireVerifiedDomains: boolean;
    /** How often a worker takes over provisionings and hard deletes whose process died. */
    provisioningRecoveryIntervalMs: number;
    /** Spare SCHEMA-tenant storage kept ready per database server; 0: none. */
    provisioningSpares: number;
    /** Tests only: milliseconds some provisioning steps sleep before they run, by step name. */
    provisioningStepDelayMs: Readonly<Record<string, number>>;
  }>;
  /** Root of the migration folders (`<dir>/central`, `<dir>/tenant`, ...); default `migrations/` of the project. */
  migrationsDir: string | undefined;
  jwt: Readonly<{
    /** Unset outside production: a development secret is kept in `.data/dev-jwt-secret`. */
    secret: string | undefined;
    keyId: string;
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    /** Tokens whose lifetime (exp - iat) is longer are refused, whoever signed them. */
    accessTokenMaxTtlSeconds: number;
    /**
     * JWT_KEYS: the key ring, newest first. The first signs; all verify. When unset, the ring is
     * JWT_SECRET (or the development secret) under JWT_KEY_ID.
     */
    keys: readonly Readonly<{ kid: string; secret: string }>[] | undefined;
  }>;
  auth: Readonly<{
    refreshTokenTtlSeconds: number;
    /** Failed sign-ins (per account and per IP) before the lock. */
    loginMaxFailures: number;
    loginLockSeconds: number;
    requireAdmin2fa: boolean;
    /** Lifetime of an invitation token (INVITATION_TTL_HOURS). */
    invitationTtlHours: number;
    /** The page that accepts invitations; the token is appended as `#token=…` (never sent to a server). Unset: no URL, the token alone. */
    invitationUrl: string | undefined;
    /** Base64 AES-256 key for secrets at rest; unset outside production: `.data/dev-encryption-key`. */
    encryptionKey: string | undefined;
  }>;
  limits: Readonly<{
    /** graphql-js `maxTokens`: parsing stops past it. */
    maxTokens: number;
    maxDirectives: number;
    /** Limits of authenticated callers. */
    user: QueryLimits;
    /** Tighter limits of anonymous callers. */
    anonymous: QueryLimits;
    timeoutMs: number;
    /** Requests per minute: anonymous per IP, failed authentications per IP, per principal. */
    rate: Readonly<{ anonymousPerMinute: number; authFailuresPerMinute: number; principalPerMinute: number }>;
    /** Proxies in front of the server whose X-Forwarded-For entries are trusted (0: use the socket address). */
    trustProxy: number;
  }>;
  registry: Readonly<{
    maxClients: number;
    poolMax: number;
    maxConnections: number;
    acquireTimeoutMs: number;
    idleTtlMs: number;
    adaptivePoolCap: boolean;
  }>;
  jobs: Readonly<{
    /** Run the job worker in this process (`npm start`); `tenantgraph worker` always does. */
    worker: boolean;
    concurrency: number;
    pollIntervalMs: number;
  }>;
}>;

/** Per-operation limits checked before execution (src/graphql-limits/). */
export type QueryLimits = Readonly<{ depth: number; aliases: number; fields: number; cost: number }>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Variables whose values are never repeated in an error message: keys, tokens, and URLs that can
 * carry a password.
 */
const SECRET_VARIABLES = new Set(['JWT_SECRET', 'JWT_KEYS', 'TENANCY_ENCRYPTION_KEYS', 'ENCRYPTION_KEY', 'METRICS_TOKEN', 'DATABASE_URL', 'REDIS_URL']);

/** One line per problem: `VAR: what is wrong (got "value"); how to fix`. */
function formatConfigError(issues: readonly z.core.$ZodIssue[], env: Record<string, string | undefined>): string {
  return issues
    .map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const raw = env[variable];
      const got = raw === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
      return `Invalid configuration: ${variable}: ${issue.message}${got}. Fix ${variable} in the environment or .env, or unset it to use the default (see README "Configuration").`;
    })
    .join('\n');
}

/** Parses an environment into a frozen Config; throws ConfigError with readable lines. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset": shells and .env files often leave `VAR=` behind.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) throw new ConfigError(formatConfigError(result.error.issues, cleaned));
  const e = result.data;
  const isProduction = e.NODE_ENV === 'production';
  if (isProduction && !e.JWT_SECRET && !e.JWT_KEYS) {
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET: required when NODE_ENV=production. Fix JWT_SECRET in the environment or .env (at least 32 random characters, e.g. `openssl rand -base64 48`).',
    );
  }
  if (isProduction && !e.TENANCY_ENCRYPTION_KEYS) {
    throw new ConfigError(
      'Invalid configuration: TENANCY_ENCRYPTION_KEYS: required when NODE_ENV=production. Fix TENANCY_ENCRYPTION_KEYS in the environment or .env (e.g. `k1:$(openssl rand -base64 32)`).',
    );
  }
  if (e.ACCESS_TOKEN_TTL_SECONDS > e.ACCESS_TOKEN_MAX_TTL_SECONDS) {
    throw new ConfigError(
      `Invalid configuration: ACCESS_TOKEN_TTL_SECONDS: ${e.ACCESS_TOKEN_TTL_SECONDS} is above ACCESS_TOKEN_MAX_TTL_SECONDS (${e.ACCESS_TOKEN_MAX_TTL_SECONDS}), so every minted token would be refused. Fix ACCESS_TOKEN_TTL_SECONDS or ACCESS_TOKEN_MAX_TTL_SECONDS in the environment or .env.`,
    );
  }
  if (!e.DATABASE_URL && (e.EMBEDDED_POSTGRES === false || (isProduction && e.EMBEDDED_POSTGRES !== true))) {
    throw new ConfigError(
      e.EMBEDDED_POSTGRES === false
        ? 'Invalid configuration: DATABASE_URL: required when EMBEDDED_POSTGRES=false. Fix DATABASE_URL in the environment or .env (postgres://user:password@host:5432/database).'
        : 'Invalid configuration: DATABASE_URL: required when NODE_ENV=production (the embedded PostgreSQL keeps its data in a local folder a container loses). Fix DATABASE_URL in the environment or .env, or set EMBEDDED_POSTGRES=true to run it anyway.',
    );
  }
  if (isProduction && e.CORS_ORIGINS.includes('*')) {
    throw new ConfigError(
      'Invalid configuration: CORS_ORIGINS: `*` is refused when NODE_ENV=production. Fix CORS_ORIGINS in the environment or .env: list the exact origins, e.g. https://app.example.com,https://admin.example.com.',
    );
  }
  const introspection = e.GRAPHQL_INTROSPECTION ?? !isProduction;
  return deepFreeze({
    env: e.NODE_ENV,
    isProduction,
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.REQUEST_BODY_LIMIT_BYTES,
      anonymousBodyLimitBytes: Math.min(e.REQUEST_ANONYMOUS_BODY_LIMIT_BYTES, e.REQUEST_BODY_LIMIT_BYTES),
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    log: { level: e.LOG_LEVEL },
    graphql: { introspection, sandbox: introspection, jit: e.GRAPHQL_JIT, jitCompileAfter: e.GRAPHQL_JIT_COMPILE_AFTER },
    explorer: { graphiql: introspection && !isProduction },
    cors: { origins: e.CORS_ORIGINS },
    metrics: {
      token: e.METRICS_TOKEN,
      tenantLabels: e.METRICS_TENANT_LABELS,
      warnAcquireMs: e.WARN_ACQUIRE_MS,
      warnRssBytes: e.WARN_RSS_MB * 1024 * 1024,
      warnPoolSaturation: e.WARN_POOL_SATURATION,
    },
    database: e.DATABASE_URL
      ? { kind: 'external', url: e.DATABASE_URL, centralPoolMax: e.CENTRAL_DB_POOL_MAX }
      : { kind: 'embedded', port: e.EMBEDDED_PG_PORT, dataDir: e.EMBEDDED_PG_DATA_DIR, centralPoolMax: e.CENTRAL_DB_POOL_MAX },
    redisUrl: e.REDIS_URL,
    migrateOnStart: e.MIGRATE_ON_START,
    encryptionKeys: e.TENANCY_ENCRYPTION_KEYS,
    storageDir: e.STORAGE_DIR,
    tenancy: {
      identifiers: e.TENANT_IDENTIFIERS,
      centralDomains: e.CENTRAL_DOMAINS,
      centralDomain: e.CENTRAL_DOMAIN,
      cacheTtlMs: e.TENANT_CACHE_TTL_MS,
      cacheMax: e.TENANT_CACHE_MAX,
      storagePrefix: e.TENANT_DATABASE_PREFIX,
      sharedTenantsDatabase: e.TENANTS_SHARED_DATABASE,
      demoData: e.DEMO_DATA,
      clusterYearsMin: e.CLUSTER_YEARS_MIN,
      clusterPrepareFrom: e.CLUSTER_PREPARE_FROM,
      clusterPrepareCron: e.CLUSTER_PREPARE_CRON === 'off' ? undefined : e.CLUSTER_PREPARE_CRON,
      deleteGraceDays: e.TENANT_DELETE_GRACE_DAYS,
      purgeCron: e.TENANT_PURGE_CRON === 'off' ? undefined : e.TENANT_PURGE_CRON,
      requireVerifiedDomains: e.REQUIRE_VERIFIED_DOMAINS ?? isProduction,
      provisioningRecoveryIntervalMs: e.PROVISIONING_RECOVERY_INTERVAL_MS,
      provisioningSpares: e.PROVISIONING_SPARES,
      provisioningStepDelayMs: Object.fromEntries((e.PROVISIONING_TEST_STEP_DELAY ?? '').split(',').filter(Boolean).map((pair) => [pair.split('=')[0]!, Number(pair.split('=')[1])])),
    },
    migrationsDir: e.MIGRATIONS_DIR,
    jwt: {
      secret: e.JWT_SECRET,
      keyId: e.JWT_KEY_ID,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      accessTokenMaxTtlSeconds: e.ACCESS_TOKEN_MAX_TTL_SECONDS,
      keys: e.JWT_KEYS,
    },
    auth: {
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginLockSeconds: e.LOGIN_LOCK_SECONDS,
      requireAdmin2fa: e.REQUIRE_ADMIN_2FA ?? isProduction,
      invitationTtlHours: e.INVITATION_TTL_HOURS,
      invitationUrl: e.INVITATION_URL,
      encryptionKey: e.ENCRYPTION_KEY,
    },
    limits: {
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      user: { depth: e.GRAPHQL_MAX_DEPTH, aliases: e.GRAPHQL_MAX_ALIASES, fields: e.GRAPHQL_MAX_FIELDS, cost: e.GRAPHQL_MAX_COST },
      anonymous: {
        // An anonymous limit above the general one would mean nothing: the general one is checked too.
        depth: Math.min(e.GRAPHQL_ANONYMOUS_MAX_DEPTH, e.GRAPHQL_MAX_DEPTH),
        aliases: Math.min(e.GRAPHQL_ANONYMOUS_MAX_ALIASES, e.GRAPHQL_MAX_ALIASES),
        fields: Math.min(e.GRAPHQL_ANONYMOUS_MAX_FIELDS, e.GRAPHQL_MAX_FIELDS),
        cost: Math.min(e.GRAPHQL_ANONYMOUS_MAX_COST, e.GRAPHQL_MAX_COST),
      },
      timeoutMs: e.GRAPHQL_TIMEOUT_MS,
      rate: {
        anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
        authFailuresPerMinute: e.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
        principalPerMinute: e.RATE_LIMIT_PRINCIPAL_PER_MINUTE,
      },
      trustProxy: e.TRUST_PROXY,
    },
    registry: {
      maxClients: e.DB_REGISTRY_MAX_CLIENTS,
      poolMax: e.DB_POOL_MAX,
      maxConnections: e.DB_MAX_CONNECTIONS,
      acquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
      idleTtlMs: e.DB_IDLE_TTL_MS,
      adaptivePoolCap: e.DB_POOL_ADAPTIVE,
    },
    jobs: { worker: e.WORKER, concurrency: e.WORKER_CONCURRENCY, pollIntervalMs: e.WORKER_POLL_INTERVAL_MS },
  } satisfies Config);
}

/**
 * Reads `.env` (when present, without overriding variables already set) and `process.env`.
 * @param envFile path of the dotenv file; default `.env` in the working directory
 */
export function loadConfig(envFile = '.env'): Config {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
