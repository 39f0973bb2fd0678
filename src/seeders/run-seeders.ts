import { type TenantScopes } from '../tenancy/bootstrappers/index.js';
import { resolveSeeders } from './index.js';

/**
 * Runs registered seeders by name, in order, inside one tenant's context: what provisioning calls
 * for a plan's default seeders (`plans.seeders`). An unknown name or a failing seeder throws.
 */
export function makeSeederRunner(scopes: Pick<TenantScopes, 'runInTenant'>) {
  return async (tenantId: string, names: readonly string[]): Promise<void> => {
    const seeders = resolveSeeders(names);
    await scopes.runInTenant(tenantId, { kind: 'system', actor: 'provisioning:seeders' }, async (context) => {
      for (const seeder of seeders) await seeder.run(context);
    });
  };
}
