/**
 * `tenants:rollback --step N`: undoes the newest N applied files of every selected tenant's targets
 * with their `.down.sql` files. Everything is checked first — every down file present, no drift —
 * and the command refuses before touching any tenant when something is missing. Holds the fleet
 * lock, so it never runs beside a fleet migration.
 */
import { tryAdvisoryLock } from '../../infra/advisory-lock.js';
import { migrationsDir } from '../../paths.js';
import { mapLimit } from '../../infra/map-limit.js';
import { loadDownFiles, planRollback, readMigrationStatus, rollback, type MigrationFile, type MigrationTarget } from '../migrator/index.js';
import { LEVEL_TARGET_NAMES } from '../migration-targets.js';
import { type Tenancy } from '../tenancy.js';
import { FLEET_MIGRATION_LOCK, FleetBusyError, type FleetRunner } from './fleet-migration.js';
import { withTargets, type FleetLevel, type FleetTenant } from './fleet-targets.js';

export class RollbackRefusedError extends Error {
  override readonly name = 'RollbackRefusedError';
  constructor(readonly missing: string[]) {
    super(`rollback refused, nothing was changed: ${missing.join('; ')}`);
  }
}

export type RollbackSummary = {
  items: ({ slug: string; status: 'done'; rolledBack: string[] } | { slug: string; status: 'failed'; error: string })[];
};

/** The folder a target's files come from: the label's first part (`tenant:clinic_a` → `tenant`, `emr:clinic_a:2026` → `emr`). */
const folderOf = (target: MigrationTarget) => target.label.split(':')[0]!;

export async function rollbackFleet(
  tenancy: Tenancy,
  tenants: readonly FleetTenant[],
  level: FleetLevel,
  steps: number,
  runner: FleetRunner,
): Promise<RollbackSummary> {
  const release = await tryAdvisoryLock(tenancy.central, FLEET_MIGRATION_LOCK);
  if (!release) throw new FleetBusyError();
  try {
    const downs = new Map<string, Map<string, MigrationFile>>();
    for (const name of LEVEL_TARGET_NAMES) downs.set(name, await loadDownFiles(migrationsDir(name, tenancy.config.migrationsDir)));

    // Check every tenant before changing any.
    const problems = (
      await mapLimit(tenants, 8, (tenant) =>
        withTargets(tenancy, tenant, level, async (pool, targets) => {
          const found: string[] = [];
          for (const target of targets) {
            const status = await readMigrationStatus(pool, target);
            if (status.edited.length > 0) found.push(`${tenant.slug} ${target.label}: ${status.edited.join(', ')} edited after it was applied`);
            const plan = planRollback(status, downs.get(folderOf(target)) ?? new Map(), steps);
            for (const file of plan.missing) found.push(`${tenant.slug} ${target.label}: no ${file.replace(/\.sql$/, '.down.sql')}`);
          }
          return found;
        }),
      )
    ).flat();
    if (problems.length > 0) throw new RollbackRefusedError(problems);

    const items: RollbackSummary['items'] = [];
    await runner(tenants, async (tenant) => {
      try {
        const rolledBack = await withTargets(tenancy, tenant, level, async (pool, targets) => {
          const undone: string[] = [];
          for (const target of targets) {
            const result = await rollback(pool, target, downs.get(folderOf(target)) ?? new Map(), steps);
            undone.push(...result.rolledBack.map((file) => `${target.label} ${file}`));
          }
          return undone;
        });
        items.push({ slug: tenant.slug, status: 'done', rolledBack });
      } catch (error) {
        items.push({ slug: tenant.slug, status: 'failed', error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    });
    return { items };
  } finally {
    await release();
  }
}
