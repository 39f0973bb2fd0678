import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.js';
import { formatInvoiceNumber } from '../../src/resolvers/invoice/invoice-number.js';
import { conflictFields, translatePrismaError } from '../../src/resolvers/common/prisma-errors.js';
import { parseInput } from '../../src/resolvers/common/validation.js';

describe('conflictFields', () => {
  it('reads Prisma targets, adapter constraint fields, or the default constraint name', () => {
    expect(conflictFields({ code: 'P2002', meta: { target: ['mrn'] } })).toEqual(['mrn']);
    expect(conflictFields({ code: 'P2002', meta: { driverAdapterError: { cause: { table: 'x', constraint: { fields: ['"external_id"'] } } } } })).toEqual(['externalId']);
    expect(conflictFields({ code: 'P2002', meta: { driverAdapterError: { cause: { table: 'patients', constraint: { index: 'patients_mrn_key' } } } } })).toEqual(['mrn']);
    expect(conflictFields({ code: 'P2002', meta: { driverAdapterError: { cause: { table: 'patients', constraint: { index: 'custom_name' } } } } })).toEqual([]);
  });

  it('puts the field in extensions.field of the CONFLICT', () => {
    const error = translatePrismaError({ code: 'P2002', meta: { target: ['mrn'] } }, 'Patient') as AppError;
    expect(error).toBeInstanceOf(AppError);
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'mrn' });
    expect(error.message).toBe('A patient with this mrn already exists');
  });
});

describe('parseInput', () => {
  const schema = z.object({ a: z.string().min(2, 'a is too short'), b: z.number({ error: 'b must be a number' }), c: z.string().optional() });

  it('names every bad field once, in schema order', () => {
    try {
      parseInput(schema, { a: 'x', b: 'no' });
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'a',
        fields: [
          { field: 'a', message: 'a is too short' },
          { field: 'b', message: 'b must be a number' },
        ],
      });
    }
  });

  it('returns the parsed value when valid', () => {
    expect(parseInput(schema, { a: 'xy', b: 1 })).toEqual({ a: 'xy', b: 1 });
  });
});

describe('formatInvoiceNumber', () => {
  it('pads to six digits', () => {
    expect(formatInvoiceNumber(2026, 1)).toBe('INV-2026-000001');
    expect(formatInvoiceNumber(2026, 1234567)).toBe('INV-2026-1234567');
  });
});
