/**
 * The seeders `tenantgraph tenants:seed --seeder a,b` knows, by name. Add a module under
 * src/seeders/ and list it here.
 */
import { demoPatients } from './demo-patients.seeder.js';
import { demoVisits } from './demo-visits.seeder.js';
import { type Seeder } from './seeder.js';

export { defineSeeder, type Seeder } from './seeder.js';

export const SEEDERS: ReadonlyMap<string, Seeder> = new Map([demoPatients, demoVisits].map((seeder) => [seeder.name, seeder]));

/** The named seeders in the order given; throws naming every unknown one. */
export function resolveSeeders(names: readonly string[]): Seeder[] {
  const unknown = names.filter((name) => !SEEDERS.has(name));
  if (unknown.length > 0) throw new Error(`unknown seeder ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known: ${[...SEEDERS.keys()].join(', ')}`);
  return names.map((name) => SEEDERS.get(name)!);
}
