import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Paths whose values never reach a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'databaseUrl',
  'connectionString',
  '*.connectionString',
  'dbPasswordCiphertext',
  '*.dbPasswordCiphertext',
];

/**
 * The process logger. Children are bound to a tenant and request with `logger.child({...})`.
 * @param level pino level; default from config (`LOG_LEVEL`, default `info`)
 */
export function makeLogger(level: string, name = 'tenantgraph'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
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
