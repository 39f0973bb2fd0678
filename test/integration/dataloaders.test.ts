/**
 * Patients with their visits, practitioners and invoice lines cost a constant number of SQL
 * statements: the per-request DataLoaders batch each level, whatever the number of rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
const QUERY = `query($first: Int) { patients(first: $first) { edges { node { id
  visits { id practitioner { id name } }
  invoices { id lines { quantity catalogItem { id code } } } } } } }`;

async function clinicWithPatients(count: number, hierarchy: Awaited<ReturnType<typeof makeHierarchy>>, itemIds: string[], practitionerIds: string[]) {
  const clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA');
  const year = new Date().getUTCFullYear();
  const target = app.tenancy.strategyFor(clinic).connectionTarget(clinic);
  const tenant = app.tenancy.registry.lease(target, 'tenant');
  const emr = app.tenancy.registry.lease({ ...target, schema: app.tenancy.naming.clusterSchema(clinic, 'emr', year) }, 'cluster');
  const pos = app.tenancy.registry.lease({ ...target, schema: app.tenancy.naming.clusterSchema(clinic, 'pos', year) }, 'cluster');
  try {
    for (let i = 0; i < count; i++) {
      const patient = await tenant.client.patient.create({ data: { mrn: `P${i}`, firstName: 'F', lastName: `L${String(i).padStart(3, '0')}` } });
      await emr.client.visit.createMany({ data: [0, 1].map((v) => ({ patientId: patient.id, practitionerId: practitionerIds[(i + v) % practitionerIds.length]! })) });
      await pos.client.invoice.create({
        data: { patientId: patient.id, number: `N${i}`, totalCents: 0, lines: { create: itemIds.map((catalogItemId) => ({ catalogItemId, quantity: 1, unitPriceCents: 0 })) } },
      });
    }
  } finally {
    tenant.release();
    emr.release();
    pos.release();
  }
  return { clinic, token: await app.token({ subject: 'n1', tenantId: clinic.id, roles: ['admin'] }) };
}

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

describe('per-request DataLoaders', () => {
  it('50 patients cost the same number of statements as 5', async () => {
    const hierarchy = await makeHierarchy(app.tenancy, 1);
    const appLease = app.tenancy.registry.lease(app.tenancy.strategyFor(hierarchy.app).connectionTarget(hierarchy.app), 'app');
    const groupLease = app.tenancy.registry.lease(app.tenancy.strategyFor(hierarchy.groups[0]!).connectionTarget(hierarchy.groups[0]!), 'group');
    const items = await Promise.all(['A', 'B', 'C'].map((code) => appLease.client.catalogItem.create({ data: { code, name: code, priceCents: 100 } })));
    const practitioners = await Promise.all(['X', 'Y'].map((name) => groupLease.client.practitioner.create({ data: { name } })));
    appLease.release();
    groupLease.release();
    const itemIds = items.map((item) => item.id);
    const practitionerIds = practitioners.map((p) => p.id);

    const statements: Record<number, number> = {};
    for (const count of [5, 50]) {
      const { token } = await clinicWithPatients(count, hierarchy, itemIds, practitionerIds);
      // Warm the identification cache and cluster checks, so only the query's own statements count.
      await app.gql(QUERY, { first: 1 }, { authorization: `Bearer ${token}` });
      const before = app.tenancy.registry.metrics().queries;
      const { body } = await app.gql<{ patients: { edges: { node: { visits: { practitioner: { name: string } }[]; invoices: { lines: { catalogItem: { code: string } }[] }[] } }[] } }>(
        QUERY,
        { first: 100 },
        { authorization: `Bearer ${token}` },
      );
      statements[count] = app.tenancy.registry.metrics().queries - before;
      expect(body.errors).toBeUndefined();
      const edges = body.data!.patients.edges;
      expect(edges).toHaveLength(count);
      expect(edges.every((edge) => edge.node.visits.length === 2 && edge.node.visits.every((visit) => visit.practitioner.name))).toBe(true);
      expect(edges.every((edge) => edge.node.invoices[0]!.lines.map((line) => line.catalogItem.code).sort().join() === 'A,B,C')).toBe(true);
    }
    expect(statements[50]).toBe(statements[5]);
    expect(statements[5]).toBeLessThanOrEqual(8);
  });
});
