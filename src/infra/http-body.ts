import { type IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** The body's bytes are not UTF-8 (the only encoding we read; see `isUtf8Label`). */
export class BodyNotUtf8Error extends Error {
  override readonly name = 'BodyNotUtf8Error';
}

/** The client went away (or its connection broke) before the whole body arrived. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

/** Decoding without `stream` keeps no state between calls, so one decoder serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request body as UTF-8, refusing it as soon as it passes `limit` bytes (checked against
 * Content-Length first, then while streaming, so a lying header cannot get more through).
 *
 * Bytes that are not UTF-8 are refused (BodyNotUtf8Error) rather than replaced with U+FFFD: a
 * silently altered query or variable could match something else. A leading byte order mark is
 * dropped, as WHATWG's UTF-8 decode does.
 *
 * Read with 'data'/'end' listeners rather than `for await`: the stream's async iterator was a
 * measurable part of our per-request HTTP glue (profile in docs/BENCHMARKS.md), for bodies that
 * nearly always arrive in one chunk.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain so the connection can answer
    throw new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`);
  }
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        req.resume(); // drain the rest unread
        reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // Node ends an interrupted request with 'error' ("aborted", ECONNRESET) and 'close', or with
    // 'close' alone; 'close' before 'end' means the rest never comes: nobody is listening.
    const onAborted = (error?: Error) => {
      stop();
      reject(new RequestAbortedError('request body was not received completely', { cause: error }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAborted);
    req.on('close', onAborted);
  });
  try {
    return UTF8.decode(body);
  } catch (error) {
    throw new BodyNotUtf8Error('request body is not valid UTF-8', { cause: error });
  }
}

export type MediaType = {
  /** `type/subtype`, lower case. */
  essence: string;
  /** Parameter names in lower case; values unquoted, case kept. The first of a repeated name wins. */
  parameters: ReadonlyMap<string, string>;
};

const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const ESSENCE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/**
 * Parses a media type (`Content-Type`, or one range of `Accept`) leniently: `type/subtype` must be
 * well formed, malformed parameters are skipped. Undefined or malformed: null.
 */
export function parseMediaType(header: string | undefined): MediaType | null {
  if (header === undefined) return null;
  const [head = '', ...rest] = header.split(';');
  const essence = head.trim().toLowerCase();
  if (!ESSENCE.test(essence)) return null;
  const parameters = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (name && !parameters.has(name)) parameters.set(name, value);
  }
  return { essence, parameters };
}

/** WHATWG Encoding's labels for UTF-8 (what `new TextDecoder(label)` maps to UTF-8). */
const UTF8_LABELS = new Set(['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);

export function isUtf8Label(charset: string): boolean {
  return UTF8_LABELS.has(charset.trim().toLowerCase());
}

/**
 * How much an `Accept` header wants `essence` (its q, 0..1): the most specific matching range
 * decides (`type/subtype` over `type/*` over `*\/*`). No matching range: 0.
 */
export function acceptWeight(accept: string, essence: string): number {
  const major = essence.slice(0, essence.indexOf('/'));
  let specificity = -1;
  let weight = 0;
  for (const range of accept.split(',')) {
    const parsed = parseMediaType(range);
    if (!parsed) continue;
    const match = parsed.essence === essence ? 2 : parsed.essence === `${major}/*` ? 1 : parsed.essence === '*/*' ? 0 : -1;
    if (match <= specificity) continue;
    specificity = match;
    const q = Number(parsed.parameters.get('q') ?? '1');
    weight = Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 1;
  }
  return weight;
}
