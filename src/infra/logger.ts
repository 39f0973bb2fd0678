import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * Paths whose values never reach a log line. Errors are covered separately (`serializeError`
 * keeps only safe fields), and every finished line goes through `scrubSecrets` as a last net.
 */
const REDACT = [
  // Credentials in requests
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  // Secrets by name
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'secret',
  '*.secret',
  'jwtSecret',
  '*.jwtSecret',
  'dbPasswordCiphertext',
  '*.dbPasswordCiphertext',
  // Connection strings
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
  // Objects that hold all of the above: a pool, a client, a config
  'config',
  '*.config',
  'pool',
  '*.pool',
  'client',
  '*.client',
];

/**
 * The process logger. Children are bound to a tenant and request with `logger.child({...})`.
 * @param level pino level; default from config (`LOG_LEVEL`, default `info`)
 * @param destination where lines go; default stdout (tests pass a stream that keeps them)
 */
export function makeLogger(level: string, name = 'tenantgraph', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
    // Last net: a secret that slipped into a message or an unexpected field is still cut out.
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes the password from a connection string before it is shown anywhere. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}

// `scheme://user:password@` (the password may be empty); `"` and `\` are excluded so a match never
// spans two JSON strings of a log line.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"\\]*):[^\s@/"\\]*@/gi;
// libpq keyword/value connection strings: `host=... password=secret`.
const KEYWORD_PASSWORD = /(\bpassword\s*=\s*)('[^']*'|[^\s"\\]+)/gi;

/** Cuts passwords out of URLs and `password=...` pairs in any text. */
export function scrubSecrets(text: string): string {
  if (!text.includes('@') && !/password/i.test(text)) return text;
  return text.replace(URL_PASSWORD, '$1:***@').replace(KEYWORD_PASSWORD, '$1***');
}

export type SerializedError = {
  type: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
};

/**
 * What a log line keeps of an error: its class, message, code and stack (passwords cut out), and
 * the same of its cause. Nothing else: a driver error can carry the pool or client that raised
 * it (with its connection string), Prisma's carries the query, an HTTP client's its config.
 */
export function serializeError(error: unknown, depth = 0): SerializedError | unknown {
  if (!(error instanceof Error)) {
    if (error === null || typeof error !== 'object') return typeof error === 'string' ? scrubSecrets(error) : error;
    // A plain object in `err` (e.g. already serialised): keep the same safe fields only.
  }
  const source = error as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown; cause?: unknown; errors?: unknown };
  const result: SerializedError = {
    type: error instanceof Error ? error.constructor.name || error.name : 'Object',
    message: scrubSecrets(typeof source.message === 'string' ? source.message : ''),
  };
  if (typeof source.code === 'string' || typeof source.code === 'number') result.code = source.code;
  if (typeof source.stack === 'string') result.stack = scrubSecrets(source.stack);
  if (depth < 3 && source.cause !== undefined) result.cause = serializeError(source.cause, depth + 1) as SerializedError;
  if (depth < 3 && Array.isArray(source.errors)) result.errors = source.errors.slice(0, 5).map((inner) => serializeError(inner, depth + 1) as SerializedError);
  return result;
}
