import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

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

export type LoggerOptions = {
  /**
   * Human-readable lines through pino-pretty (a worker-thread transport, off the request path).
   * main.ts turns it on only in development with a terminal on stdout; JSON lines otherwise,
   * which is what log collectors read.
   */
  pretty?: boolean;
  /** Where JSON lines go (tests capture them); default stdout. Ignored when `pretty`. */
  destination?: DestinationStream;
};

/**
 * The process logger. Children are bound to a tenant and request with `logger.child({...})`.
 * @param level pino level; default from config (`LOG_LEVEL`, default `info`)
 */
export function makeLogger(level: string, name = 'tenantgraph', options: LoggerOptions = {}): Logger {
  const settings = { name, level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (options.pretty) {
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } } });
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
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
