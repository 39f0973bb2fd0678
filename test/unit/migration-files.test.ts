import { describe, expect, it } from 'vitest';
import { assertHistoryMatches, checksumOf, MigrationChecksumError, type MigrationStatus } from '../../src/tenancy/migrator/index.js';

const target = { label: 'central', files: [] };
const emptyStatus: MigrationStatus = { applied: [], pending: [], edited: [], unknown: [] };

describe('migration checksums', () => {
  it('ignore line-ending style but nothing else', () => {
    expect(checksumOf('SELECT 1;\r\nSELECT 2;\r\n')).toBe(checksumOf('SELECT 1;\nSELECT 2;\n'));
    expect(checksumOf('SELECT 1;')).not.toBe(checksumOf('SELECT 1; '));
  });
});

describe('assertHistoryMatches', () => {
  it('accepts a consistent history', () => {
    expect(() => assertHistoryMatches(emptyStatus, target)).not.toThrow();
  });

  it('refuses an edited applied file, naming it', () => {
    expect(() => assertHistoryMatches({ ...emptyStatus, edited: ['0001_a.sql'] }, target)).toThrow(MigrationChecksumError);
    expect(() => assertHistoryMatches({ ...emptyStatus, edited: ['0001_a.sql'] }, target)).toThrow(/0001_a\.sql of central was edited/);
  });

  it('refuses a database migrated by newer code', () => {
    expect(() => assertHistoryMatches({ ...emptyStatus, unknown: ['0009_z.sql'] }, target)).toThrow(/0009_z\.sql/);
  });
});
