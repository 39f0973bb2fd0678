import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDownFiles, loadMigrationFiles, planRollback, type MigrationStatus } from '../../src/tenancy/migrator/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tg-down-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('.down.sql files', () => {
  it('are skipped by the forward loader and paired with their forward file', async () => {
    await writeFile(path.join(dir, '0001_a.sql'), 'CREATE TABLE a ();');
    await writeFile(path.join(dir, '0002_b.sql'), 'CREATE TABLE b ();');
    await writeFile(path.join(dir, '0002_b.down.sql'), 'DROP TABLE b;');
    expect((await loadMigrationFiles(dir)).map((file) => file.name)).toEqual(['0001_a.sql', '0002_b.sql']);
    const downs = await loadDownFiles(dir);
    expect([...downs.keys()]).toEqual(['0002_b.sql']);
    expect(downs.get('0002_b.sql')!.sql).toBe('DROP TABLE b;');
  });

  it('refuses a down file without its forward file', async () => {
    await writeFile(path.join(dir, '0003_c.down.sql'), 'DROP TABLE c;');
    await expect(loadDownFiles(dir)).rejects.toThrow(/no forward file 0003_c\.sql/);
  });

  it('planRollback takes the newest N applied files and names those without a down file', () => {
    const applied = ['0001_a.sql', '0002_b.sql', '0003_c.sql'].map((name) => ({ name, checksum: '', appliedAt: new Date(), durationMs: 1 }));
    const status: MigrationStatus = { applied, pending: [], edited: [], unknown: [] };
    const downs = new Map([['0003_c.sql', { name: '0003_c.down.sql', version: 3, sql: '', checksum: '' }]]);
    expect(planRollback(status, downs, 1)).toEqual({ files: ['0003_c.sql'], missing: [] });
    expect(planRollback(status, downs, 2)).toEqual({ files: ['0003_c.sql', '0002_b.sql'], missing: ['0002_b.sql'] });
  });
});
