import { type Isolation } from '../../src/tenancy/model.js';
import { provisionTenant, type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { type Tenancy } from '../../src/tenancy/tenancy.js';
import { uniqueKey } from './app.js';

export type Hierarchy = { app: ProvisionedTenant; groups: ProvisionedTenant[] };

/** An app with `groups` groups under it, all with unique keys and slugs. */
export async function makeHierarchy(tenancy: Tenancy, groups = 1): Promise<Hierarchy> {
  const appKey = uniqueKey('app');
  const app = await provisionTenant(tenancy, { level: 'APP', key: appKey, slug: appKey.replace(/_/g, '-'), name: `App ${appKey}` });
  const made: ProvisionedTenant[] = [];
  for (let i = 0; i < groups; i++) {
    const key = uniqueKey('grp');
    made.push(await provisionTenant(tenancy, { level: 'CENTRAL_TENANT', parentId: app.id, key, slug: key.replace(/_/g, '-'), name: `Group ${key}` }));
  }
  return { app, groups: made };
}

/** A clinic under `group`, with a domain `<slug>.test` and the given cluster years (default this year). */
export async function makeClinic(
  tenancy: Tenancy,
  group: ProvisionedTenant,
  isolation: Isolation,
  options: { clusterYears?: number[]; prefix?: string } = {},
): Promise<ProvisionedTenant & { domain: string }> {
  const key = uniqueKey(options.prefix ?? (isolation === 'DATABASE' ? 'db' : 'sc'));
  const slug = key.replace(/_/g, '-');
  const domain = `${slug}.test`;
  const clinic = await provisionTenant(tenancy, {
    level: 'TENANT',
    parentId: group.id,
    key,
    slug,
    name: `Clinic ${key}`,
    isolation,
    domains: [domain],
    clusterYears: options.clusterYears,
  });
  return { ...clinic, domain };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}
