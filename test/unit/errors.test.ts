import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode, makeFormatError } from '../../src/errors/index.js';
import { makeLogger } from '../../src/infra/logger.js';

const logged: unknown[] = [];
const logger = makeLogger('silent');
logger.error = ((obj: unknown) => void logged.push(obj)) as never;
const format = makeFormatError(logger, () => 'req-1');

describe('AppError', () => {
  it('carries its code and HTTP status in extensions', () => {
    const error = new AppError(ErrorCode.TENANT_MAINTENANCE, 'down', { headers: { 'Retry-After': '60' } });
    expect(error.extensions.code).toBe('TENANT_MAINTENANCE');
    expect((error.extensions.http as { status: number }).status).toBe(503);
  });
});

describe('formatError', () => {
  it('passes our errors through unchanged', () => {
    const error = new AppError(ErrorCode.NOT_FOUND, 'Patient not found');
    const wrapped = new GraphQLError(error.message, { originalError: error, extensions: error.extensions });
    expect(format({ message: 'Patient not found', extensions: { code: 'NOT_FOUND' } }, wrapped)).toEqual({
      message: 'Patient not found',
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it('passes errors graphql-js built from the request (validation, syntax)', () => {
    const error = new GraphQLError('Cannot query field "x" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format({ message: error.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, error).message).toBe(error.message);
  });

  it('masks anything unexpected, with the request id, and logs the original', () => {
    const leak = new Error('connect ECONNREFUSED postgres://admin:secret@10.0.0.1/central');
    const wrapped = new GraphQLError(leak.message, { originalError: leak, path: ['patients'] });
    const formatted = format({ message: leak.message, path: ['patients'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, wrapped);
    expect(formatted).toEqual({
      message: 'Internal server error',
      path: ['patients'],
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' },
    });
    expect(JSON.stringify(formatted)).not.toContain('secret');
    expect(logged).toHaveLength(1);
  });
});

describe('formatError and the connection budget', () => {
  it('turns a query that found no connection slot into DATABASE_BUSY', () => {
    const busy = new Error('Invalid `prisma.patient.findMany()` invocation: tenantgraph:DATABASE_BUSY no connection slot within 5000 ms');
    const wrapped = new GraphQLError(busy.message, { originalError: busy, path: ['patients'] });
    expect(format({ message: busy.message, path: ['patients'] }, wrapped)).toEqual({
      message: 'The database is busy; retry shortly',
      path: ['patients'],
      extensions: { code: 'DATABASE_BUSY', requestId: 'req-1' },
    });
  });
});

describe('formatError and database outages', () => {
  it('turns an unreachable database (as Prisma 7 wraps it) into DATABASE_UNAVAILABLE, never INTERNAL_SERVER_ERROR', () => {
    const prisma = Object.assign(new Error('Invalid `prisma.patient.findMany()` invocation: Can’t reach database server'), {
      code: 'P1001',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 } } },
    });
    const wrapped = new GraphQLError(prisma.message, { originalError: prisma, path: ['patients'] });
    expect(format({ message: prisma.message, path: ['patients'] }, wrapped)).toEqual({
      message: 'The database is unavailable; retry shortly',
      path: ['patients'],
      extensions: { code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 5, requestId: 'req-1' },
    });
  });

  it('has a 503 status for the new code', async () => {
    const { httpStatusOf } = await import('../../src/errors/index.js');
    expect(httpStatusOf[ErrorCode.DATABASE_UNAVAILABLE]).toBe(503);
  });
});
