/**
 * Configuration: the only module that reads `process.env`.
 *
 * Parsed and validated once with zod into a frozen object. A bad value stops the process with one
 * line naming the variable, what is wrong and how to fix it (see `formatConfigError`).
 * Every variable is documented in README.md ("Configuration").
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';

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

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl.optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  EMBEDDED_PG_DATA_DIR: z.string().min(1).default('.data/postgres'),
  REDIS_URL: redisUrl.optional(),
  MIGRATE_ON_START: booleanFromEnv.default(true),
  GRAPHQL_INTROSPECTION: booleanFromEnv.optional(),
  REQUEST_BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  CENTRAL_DB_POOL_MAX: positiveInt.default(10),
});

type Env = z.infer<typeof envSchema>;

export type Config = Readonly<{
  env: Env['NODE_ENV'];
  isProduction: boolean;
  http: Readonly<{ port: number; host: string; bodyLimitBytes: number; shutdownTimeoutMs: number }>;
  log: Readonly<{ level: Env['LOG_LEVEL'] }>;
  graphql: Readonly<{ introspection: boolean; sandbox: boolean }>;
  database: Readonly<
    | { kind: 'external'; url: string; centralPoolMax: number }
    | { kind: 'embedded'; port: number; dataDir: string; centralPoolMax: number }
  >;
  redisUrl: string | undefined;
  migrateOnStart: boolean;
}>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** One line per problem: `VAR: what is wrong (got "value"); how to fix`. */
function formatConfigError(issues: readonly z.core.$ZodIssue[], env: Record<string, string | undefined>): string {
  return issues
    .map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const raw = env[variable];
      const got = raw === undefined ? '' : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
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
  const introspection = e.GRAPHQL_INTROSPECTION ?? !isProduction;
  return deepFreeze({
    env: e.NODE_ENV,
    isProduction,
    http: { port: e.PORT, host: e.HOST, bodyLimitBytes: e.REQUEST_BODY_LIMIT_BYTES, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    log: { level: e.LOG_LEVEL },
    graphql: { introspection, sandbox: introspection },
    database: e.DATABASE_URL
      ? { kind: 'external', url: e.DATABASE_URL, centralPoolMax: e.CENTRAL_DB_POOL_MAX }
      : { kind: 'embedded', port: e.EMBEDDED_PG_PORT, dataDir: e.EMBEDDED_PG_DATA_DIR, centralPoolMax: e.CENTRAL_DB_POOL_MAX },
    redisUrl: e.REDIS_URL,
    migrateOnStart: e.MIGRATE_ON_START,
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
