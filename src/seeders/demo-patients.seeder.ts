import { defineSeeder } from './seeder.js';

const PATIENTS = [
  ['Ada', 'Lovelace'],
  ['Alan', 'Turing'],
  ['Grace', 'Hopper'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
] as const;

/** Five demo patients (MRN `DEMO-1`..`DEMO-5`); a rerun keeps them as they are. */
export const demoPatients = defineSeeder({
  name: 'demo-patients',
  description: 'Five demo patients (MRN DEMO-1..DEMO-5); idempotent.',
  async run(context) {
    const db = context.db.tenant();
    let created = 0;
    for (const [index, [firstName, lastName]] of PATIENTS.entries()) {
      const mrn = `DEMO-${index + 1}`;
      const existing = await db.patient.findUnique({ where: { mrn } });
      if (existing) continue;
      await db.patient.create({ data: { mrn, firstName, lastName } });
      created++;
    }
    return { created, total: PATIENTS.length };
  },
});
