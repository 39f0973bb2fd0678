import type pg from 'pg';
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

export type ProvisioningOutcome = { status: string; provisioning: { status: string; attempt: number; error: string | null; steps: { name: string; status: string; durationMs: number | null; error: string | null }[] } | null };

/**
 * Waits until a tenant created through createTenant (a durable job) leaves PROVISIONING, and
 * answers its status and latest attempt. Reads the central database directly, so it works
 * whichever process runs the job. Throws after `timeoutMs`.
 */
export async function awaitProvisioning(central: Pick<pg.Pool, 'query'>, tenantId: string, timeoutMs = 60_000): Promise<ProvisioningOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await central.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [tenantId]);
    const status = rows[0]?.status ?? 'GONE';
    if (status !== 'PROVISIONING') {
      const run = await central.query<{ id: string; status: string; attempt: number; error: string | null }>(
        'SELECT id, status, attempt, error FROM provisioning_runs WHERE tenant_id = $1 ORDER BY attempt DESC LIMIT 1',
        [tenantId],
      );
      const steps = run.rows[0]
        ? (await central.query('SELECT name, status, duration_ms AS "durationMs", error FROM provisioning_steps WHERE run_id = $1 ORDER BY position', [run.rows[0].id])).rows
        : [];
      return { status, provisioning: run.rows[0] ? { ...run.rows[0], steps } : null };
    }
    if (Date.now() > deadline) throw new Error(`tenant ${tenantId} still PROVISIONING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
