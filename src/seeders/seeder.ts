import { type TenantContext } from '../tenancy/bootstrappers/index.js';

/**
 * A seeder: named, idempotent data for one tenant, run inside that tenant's context (the same
 * database handles, cache, files and logger as a request) by `tenantgraph tenants:seed`.
 * What `run` returns (JSON-serialisable) is reported per tenant.
 */
export type Seeder = {
  /** Registry name, e.g. `demo-patients` (lower-case, digits, `-`). */
  name: string;
  description: string;
  run(context: TenantContext): Promise<unknown>;
};

export const defineSeeder = (seeder: Seeder): Seeder => seeder;
