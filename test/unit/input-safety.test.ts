import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/errors/index.js';
import { findUnstorableText, isStorableText } from '../../src/input/storable-text.js';
import { decodeCursor, encodeCursor } from '../../src/resolvers/common/cursor.js';

const SCOPE = '2b0c6a1e-8d5f-4a53-9c1e-3f4b5a6c7d8e';
const ID = '7d3f1c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('storable text', () => {
  it('refuses NUL and unpaired surrogates, accepts everything else', () => {
    expect(isStorableText('plain, ünïcödé, 😀 and \t tabs')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('\uD800')).toBe(false);
    expect(isStorableText('x\uDC00')).toBe(false);
    expect(findUnstorableText({ input: { lines: [{ id: 'ok' }, { id: 'a\u0000' }] } })).toBe('input.lines.1.id');
    expect(findUnstorableText({ a: 1, b: [null, true, 'fine'] })).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trips', () => {
    expect(decodeCursor(encodeCursor(SCOPE, ['Doe', 'Jane', ID]), SCOPE, ['text', 'text', 'uuid'])).toEqual(['Doe', 'Jane', ID]);
  });

  it.each([
    ['a non-uuid id', b64([SCOPE, 'Doe', 'Jane', 'not-a-uuid'])],
    ['a NUL byte', b64([SCOPE, 'Do\u0000e', 'Jane', ID])],
    ['a number', b64([SCOPE, 1, 'Jane', ID])],
    ['an object', b64({ 0: SCOPE })],
    ['too few parts', b64([SCOPE, 'Doe'])],
    ['another scope', b64(['other', 'Doe', 'Jane', ID])],
    ['not JSON', b64('[[[')],
    ['huge', b64([SCOPE, 'x'.repeat(100_000), 'Jane', ID])],
    ['empty', ''],
  ])('refuses %s with BAD_USER_INPUT', (_what, cursor) => {
    expect(() => decodeCursor(cursor, SCOPE, ['text', 'text', 'uuid'])).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });
});

describe('database outages are recognised in every shape', () => {
  const prismaWrapped = (cause: Record<string, unknown>) =>
    Object.assign(new Error('Invalid `prisma.patient.findMany()` invocation'), { code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

  it.each([
    ['pg socket error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['AggregateError of socket errors', Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {})],
    ['admin shutdown 57P01', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['cannot connect now 57P03', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['connection failure 08006', Object.assign(new Error('x'), { code: '08006' })],
    ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
    ['Prisma P1001', Object.assign(new Error('Can’t reach database server'), { code: 'P1001' })],
    ['Prisma P1017', Object.assign(new Error('Server has closed the connection'), { code: 'P1017' })],
    ['adapter DatabaseNotReachable', prismaWrapped({ kind: 'DatabaseNotReachable', host: 'h', port: 1 })],
    ['adapter ConnectionClosed', prismaWrapped({ kind: 'ConnectionClosed' })],
    ['adapter postgres 57P01', prismaWrapped({ kind: 'postgres', code: '57P01', originalCode: '57P01' })],
    ['wrapped in a cause', new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNRESET' }) })],
  ])('%s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a NUL byte inlined (08P01 protocol violation)', prismaWrapped({ kind: 'postgres', code: '08P01', originalCode: '08P01' })],
    ['a unique violation', Object.assign(new Error('dup'), { code: 'P2002' })],
    ['invalid input syntax 22P02', Object.assign(new Error('x'), { code: '22P02' })],
    ['a plain error', new Error('boom')],
  ])('but not %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
