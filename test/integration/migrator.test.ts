import { afterAll, describe, expect, it } from 'vitest';
import {
  checksumOf,
  migrate,
  MigrationChecksumError,
  MigrationFailedError,
  readMigrationStatus,
  type MigrationFile,
} from '../../src/tenancy/migrator/index.js';
import { testPool, uniqueName } from '../helpers/database.js';

const pool = testPool(6);
afterAll(() => pool.end());

const file = (name: string, sql: string): MigrationFile => ({ name, version: Number(name.slice(0, 4)), sql, checksum: checksumOf(sql) });
const createItems = file('0001_items.sql', 'CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);');
const seedItems = file('0002_seed.sql', "INSERT INTO items VALUES (1, 'one');");

async function tables(schema: string): Promise<string[]> {
  const result = await pool.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema],
  );
  return result.rows.map((row) => row.table_name);
}

describe('migrate', () => {
  it('applies files in order into the target schema, records them, and is idempotent', async () => {
    const schema = uniqueName('mig');
    const target = { label: 'test', schema, files: [createItems, seedItems] };
    const first = await migrate(pool, target);
    expect(first.applied.map((m) => m.name)).toEqual(['0001_items.sql', '0002_seed.sql']);
    expect(await tables(schema)).toEqual(['_tenantgraph_migrations', 'items']);
    const recorded = await pool.query(`SELECT name, checksum, duration_ms FROM "${schema}"._tenantgraph_migrations ORDER BY name`);
    expect(recorded.rows.map((row) => row.checksum)).toEqual([createItems.checksum, seedItems.checksum]);

    const second = await migrate(pool, target);
    expect(second).toEqual({ target: 'test', applied: [], alreadyApplied: 2 });
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".items`)).rows[0].n).toBe(1);
  });

  it('rolls back a file with invalid SQL completely and names it; earlier files stay applied', async () => {
    const schema = uniqueName('mig');
    // The broken file creates a table before its error: that table must not survive.
    const broken = file('0002_broken.sql', 'CREATE TABLE half_done (id int); SELEC oops;');
    const attempt = migrate(pool, { label: 'test', schema, files: [createItems, broken] });
    await expect(attempt).rejects.toThrow(MigrationFailedError);
    await expect(attempt).rejects.toThrow(/0002_broken\.sql of test failed and was rolled back: syntax error/);
    expect(await tables(schema)).toEqual(['_tenantgraph_migrations', 'items']);
    const status = await readMigrationStatus(pool, { label: 'test', schema, files: [createItems, broken] });
    expect(status.applied.map((m) => m.name)).toEqual(['0001_items.sql']);
    expect(status.pending.map((m) => m.name)).toEqual(['0002_broken.sql']);
  });

  it('refuses to run when an applied file was edited, and changes nothing', async () => {
    const schema = uniqueName('mig');
    await migrate(pool, { label: 'test', schema, files: [createItems] });
    const edited = file('0001_items.sql', 'CREATE TABLE items (id bigint PRIMARY KEY);');
    await expect(migrate(pool, { label: 'test', schema, files: [edited, seedItems] })).rejects.toThrow(MigrationChecksumError);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".items`)).rows[0].n).toBe(0);
  });

  it('applies each file once when several processes migrate the same target at once', async () => {
    const schema = uniqueName('mig');
    const slow = file('0002_slow.sql', "SELECT pg_sleep(0.2); INSERT INTO items VALUES (2, 'two');");
    const target = { label: 'test', schema, files: [createItems, slow] };
    const results = await Promise.all([migrate(pool, target), migrate(pool, target), migrate(pool, target)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 2]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".items`)).rows[0].n).toBe(1);
  });

  it('refuses a database that has migrations this code does not know', async () => {
    const schema = uniqueName('mig');
    await migrate(pool, { label: 'test', schema, files: [createItems, seedItems] });
    await expect(migrate(pool, { label: 'test', schema, files: [createItems] })).rejects.toThrow(/applied migrations this code does not have \(0002_seed\.sql\)/);
  });
});
