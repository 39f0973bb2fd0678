/**
 * Demo data for a first `npm start`: one app, one group, two clinics (one per isolation mode)
 * with a few patients, practitioners, catalog items, visits and invoices. Created only on an
 * empty tenants table (and never with DEMO_DATA=false); users replace it with their own.
 */
import { withAdvisoryLock } from '../infra/advisory-lock.js';
import { createNumberedInvoice } from '../resolvers/invoice/invoice-number.js';
import { provisionTenant } from './provisioning/provision-tenant.js';
import { type Tenancy } from './tenancy.js';

const PATIENTS = [
  ['Ada', 'Lovelace'],
  ['Alan', 'Turing'],
  ['Grace', 'Hopper'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
] as const;

export type DemoResult = { created: false } | { created: true; clinics: { slug: string; domain: string; isolation: string }[] };

export async function seedDemoData(tenancy: Tenancy): Promise<DemoResult> {
  // Two servers starting together on an empty database must not both seed it.
  return withAdvisoryLock(tenancy.central, 'tenantgraph:demo-data', async (lock) => {
    const existing = await lock.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants');
    if ((existing.rows[0]?.n ?? 0) > 0) return { created: false };

    const app = await provisionTenant(tenancy, { level: 'APP', key: 'demo_app', slug: 'demo-app', name: 'Demo App' });
    const group = await provisionTenant(tenancy, { level: 'CENTRAL_TENANT', parentId: app.id, key: 'demo_group', slug: 'demo-group', name: 'Demo Clinic Group' });
    const clinicA = await provisionTenant(tenancy, {
      level: 'TENANT',
      parentId: group.id,
      key: 'demo_clinic_a',
      slug: 'demo-clinic-a',
      name: 'Demo Clinic A',
      isolation: 'DATABASE',
      domains: ['clinic-a.localhost'],
    });
    const clinicB = await provisionTenant(tenancy, {
      level: 'TENANT',
      parentId: group.id,
      key: 'demo_clinic_b',
      slug: 'demo-clinic-b',
      name: 'Demo Clinic B',
      isolation: 'SCHEMA',
      domains: ['clinic-b.localhost'],
    });

    const leases = [
      tenancy.registry.lease(tenancy.strategyFor(app).connectionTarget(app), 'app'),
      tenancy.registry.lease(tenancy.strategyFor(group).connectionTarget(group), 'group'),
    ] as const;
    try {
      const [appDb, groupDb] = [leases[0].client, leases[1].client];
      const items = await Promise.all(
        [
          ['CONSULT', 'General consultation', 5000],
          ['XRAY', 'X-ray', 12000],
          ['VACCINE', 'Vaccination', 3500],
        ].map(([code, name, priceCents]) => appDb.catalogItem.create({ data: { code: code as string, name: name as string, priceCents: priceCents as number } })),
      );
      const practitioners = await Promise.all(
        [
          ['Dr. Ines Moreau', 'General practice'],
          ['Dr. Kenji Sato', 'Radiology'],
        ].map(([name, specialty]) => groupDb.practitioner.create({ data: { name: name!, specialty: specialty! } })),
      );
      const year = new Date().getUTCFullYear();
      for (const [index, clinic] of [clinicA, clinicB].entries()) {
        const target = tenancy.strategyFor(clinic).connectionTarget(clinic);
        const tenantLease = tenancy.registry.lease(target, 'tenant');
        const emr = tenancy.registry.lease({ ...target, schema: tenancy.naming.clusterSchema(clinic, 'emr', year) }, 'cluster');
        const pos = tenancy.registry.lease({ ...target, schema: tenancy.naming.clusterSchema(clinic, 'pos', year) }, 'cluster');
        try {
          for (const [i, [firstName, lastName]] of PATIENTS.entries()) {
            const patient = await tenantLease.client.patient.create({
              data: { mrn: `${index === 0 ? 'A' : 'B'}-${1000 + i}`, firstName, lastName: index === 0 ? lastName : `${lastName} (B)` },
            });
            await emr.client.visit.create({ data: { patientId: patient.id, practitionerId: practitioners[i % 2]!.id, reason: 'Check-up' } });
            const item = items[i % items.length]!;
            await createNumberedInvoice(pos.client, year, {
              patientId: patient.id,
              totalCents: item.priceCents,
              lines: { create: [{ catalogItemId: item.id, quantity: 1, unitPriceCents: item.priceCents }] },
            });
          }
        } finally {
          tenantLease.release();
          emr.release();
          pos.release();
        }
      }
    } finally {
      for (const lease of leases) lease.release();
    }
    return {
      created: true,
      clinics: [
        { slug: clinicA.slug, domain: 'clinic-a.localhost', isolation: 'DATABASE' },
        { slug: clinicB.slug, domain: 'clinic-b.localhost', isolation: 'SCHEMA' },
      ],
    };
  });
}
