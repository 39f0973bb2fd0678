import { yearInTimeZone } from '../tenancy/cluster-years.js';
import { defineSeeder } from './seeder.js';

/** One visit this year for each demo patient without one; skipped when this year's EMR schema does not exist yet. */
export const demoVisits = defineSeeder({
  name: 'demo-visits',
  description: "One visit this year (tenant's time zone) per demo patient (run demo-patients first); idempotent.",
  async run(context) {
    const tenant = context.db.tenantRecord();
    const year = yearInTimeZone(new Date(), tenant.timezone);
    if (!(await context.services.clusterExists(tenant, 'emr', year))) return { skipped: `no EMR schema for ${year}` };
    const patients = await context.db.tenant().patient.findMany({ where: { mrn: { startsWith: 'DEMO-' } }, select: { id: true } });
    const visits = context.db.cluster('emr', year).visit;
    let created = 0;
    for (const patient of patients) {
      if (await visits.findFirst({ where: { patientId: patient.id, reason: 'Demo check-up' } })) continue;
      await visits.create({ data: { patientId: patient.id, reason: 'Demo check-up' } });
      created++;
    }
    return { created, year };
  },
});
