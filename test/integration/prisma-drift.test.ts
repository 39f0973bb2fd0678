import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaClient } from '../../src/generated/central/client.js';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testPool } from '../helpers/database.js';
import { drift } from '../helpers/prisma-drift.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

const pool = testPool(2);
let app: TestApp;
let hierarchy: Hierarchy;
let clinic: ProvisionedTenant;
const year = new Date().getUTCFullYear();

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE');
});
afterAll(async () => {
  await app?.stop();
  await pool.end();
});

/** Runs drift() for the client of `kind` on `record`'s storage, in `schema`. */
async function levelDrift(record: ProvisionedTenant, kind: 'app' | 'group' | 'tenant' | 'cluster', schema: string, models?: string[]) {
  const target = { ...app.tenancy.strategyFor(record).connectionTarget(record), schema };
  const lease = app.tenancy.registry.lease(target, kind);
  const url = new URL(target.serverUrl);
  url.pathname = `/${target.database}`;
  const storagePool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  try {
    return await drift(storagePool, lease.client, schema, models);
  } finally {
    lease.release();
    await storagePool.end();
  }
}

describe('Prisma schemas and migrations agree', () => {
  it('central: every model field is a column of a compatible type and every column is modelled', async () => {
    const client = new PrismaClient({ adapter: new PrismaPg(pool) });
    try {
      expect(await drift(pool, client, 'public')).toEqual([]);
    } finally {
      await client.$disconnect();
    }
  });

  it('app, group and tenant levels', async () => {
    expect(await levelDrift(hierarchy.app, 'app', hierarchy.app.schemaName!)).toEqual([]);
    expect(await levelDrift(hierarchy.groups[0]!, 'group', hierarchy.groups[0]!.schemaName!)).toEqual([]);
    expect(await levelDrift(clinic, 'tenant', 'public')).toEqual([]);
  });

  it('each cluster module schema matches its models', async () => {
    expect(await levelDrift(clinic, 'cluster', `emr_${year}`, ['Visit'])).toEqual([]);
    expect(await levelDrift(clinic, 'cluster', `pos_${year}`, ['Invoice', 'InvoiceCounter', 'InvoiceLine'])).toEqual([]);
    expect(await levelDrift(clinic, 'cluster', `scm_${year}`, ['StockMovement'])).toEqual([]);
  });
});
