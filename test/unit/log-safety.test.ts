import { Writable } from 'node:stream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { makeLogger, scrubSecrets, serializeError } from '../../src/infra/logger.js';

const PASSWORD = 'Sup3r-S3cret-pw';
const URL_WITH_PASSWORD = `postgres://app_user:${PASSWORD}@db.internal:5432/central`;

/** A logger at trace level whose lines are kept in memory. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: makeLogger('trace', 'test', stream), lines };
}

describe('secrets never reach a log line', () => {
  it('an error carrying its pool, client and config is logged with safe fields only', async () => {
    const { logger, lines } = capture();
    const pool = new pg.Pool({ connectionString: URL_WITH_PASSWORD });
    const error = Object.assign(new Error(`connect failed for ${URL_WITH_PASSWORD}`), {
      code: 'ECONNREFUSED',
      pool,
      client: { connectionParameters: { password: PASSWORD } },
      config: { connectionString: URL_WITH_PASSWORD },
      cause: Object.assign(new Error(`inner password=${PASSWORD} host=x`), { code: '57P01', client: pool }),
    });
    logger.warn({ err: error }, 'tenant database connection lost');
    logger.error(error, 'as the first argument');
    logger.info({ error, pool, config: { url: URL_WITH_PASSWORD }, req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' } } }, 'everything at once');
    logger.info(`a message naming ${URL_WITH_PASSWORD}`);
    await pool.end();
    const text = lines.join('');
    expect(lines).toHaveLength(4);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/postgres:\/\/[^:\s"]+:[^*\s"][^@\s"]*@/);
    expect(text).not.toContain('abc.def.ghi');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const first = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(Object.keys(first.err).sort()).toEqual(['cause', 'code', 'message', 'stack', 'type']);
    expect(first.err.code).toBe('ECONNREFUSED');
    expect(first.err.message).toContain('postgres://app_user:***@db.internal:5432/central');
  });

  it('scrubs URL and keyword passwords without breaking JSON', () => {
    expect(scrubSecrets('x postgresql://u:p%40ss@h/db y')).toBe('x postgresql://u:***@h/db y');
    expect(scrubSecrets("host=h password='a b' user=u")).toBe('host=h password=*** user=u');
    const json = JSON.stringify({ a: 'http://host', b: 'v@x', c: 'redis://:pw@r:6379' });
    expect(JSON.parse(scrubSecrets(json))).toEqual({ a: 'http://host', b: 'v@x', c: 'redis://:***@r:6379' });
  });

  it('serialises what is not an Error without its properties', () => {
    expect(serializeError({ message: 'm', code: 'X', pool: { password: PASSWORD } })).toEqual({ type: 'Object', message: 'm', code: 'X' });
    expect(serializeError(`see ${URL_WITH_PASSWORD}`)).not.toContain(PASSWORD);
  });
});
