/**
 * Every level client knows the schema its adapter qualifies tables with, so a hand-written read
 * ($queryRaw, which the adapter does not qualify) names the same schema. No I/O: pg.Pool opens
 * no connection until a query, and these tests send none.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { clientSchema, levelClientFactories } from '../../src/tenancy/level-clients.js';

const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', max: 1 });
afterAll(() => pool.end());

describe('clientSchema', () => {
  it.each(Object.keys(levelClientFactories) as (keyof typeof levelClientFactories)[])('is the schema a %s client was made for', async (kind) => {
    const client = levelClientFactories[kind](pool, `tenant_${kind}`);
    expect(clientSchema(client)).toBe(`tenant_${kind}`);
    // Not a property anything enumerates, copies or overwrites.
    const symbol = Object.getOwnPropertySymbols(client).find((s) => s.description === 'tenantgraph.clientSchema')!;
    expect(Object.getOwnPropertyDescriptor(client, symbol)).toMatchObject({ enumerable: false, writable: false, configurable: false });
    await client.$disconnect();
  });

  it('refuses a client it did not make rather than guess a schema', () => {
    expect(() => clientSchema({} as never)).toThrow(/schema is unknown/);
  });
});
