/**
 * `tenants:migrate:status`: per tenant, what is applied and pending, which applied files were
 * edited since (checksum drift: reported, never run), the last fleet-migration failure, and the
 * size of its storage. Reads only.
 */
import type pg from 'pg';
import { mapLimit } from '../../infra/map-limit.js';
import { readMigrationStatus, type MigrationTarget } from '../migrator/index.js';
import { type Tenancy } from '../tenancy.js';
import { withTargets, type FleetLevel, type FleetTenant } from './fleet-targets.js';
import { lastFailures } from './migration-runs.js';

export type TenantMigrationStatus = {
  id: string;
  slug: string;
  level: string;
  isolation: string;
  /** Applied files over every target of the tenant. */
  applied: number;
  /** `target file`, e.g. `tenant:clinic_a 0003_nickname.sql`. */
  pending: string[];
  /** Applied files whose content changed since (`target file`). */
  drift: string[];
  /** Applied files this code does not have. */
  unknown: string[];
  lastFailure: { runId: string; error: string; at: Date } | null;
  /** The tenant's database (DATABASE isolation) or its schemas, in bytes; null when unreadable. */
  sizeBytes: number | null;
  /** Why the status could not be read (e.g. storage missing). */
  error: string | null;
};

export async function fleetStatusOf(tenancy: Tenancy, tenants: readonly FleetTenant[], level: FleetLevel | undefined, parallel: number): Promise<TenantMigrationStatus[]> {
  const failures = await lastFailures(tenancy.central, tenants.map((tenant) => tenant.id));
  return mapLimit(tenants, parallel, async (tenant) => {
    const base = { id: tenant.id, slug: tenant.slug, level: tenant.level, isolation: tenant.isolation, lastFailure: failures.get(tenant.id) ?? null };
    try {
      return await withTargets(tenancy, tenant, level, async (pool, targets) => {
        const status: TenantMigrationStatus = { ...base, applied: 0, pending: [], drift: [], unknown: [], sizeBytes: null, error: null };
        for (const target of targets) {
          const read = await readMigrationStatus(pool, target);
          status.applied += read.applied.length;
          status.pending.push(...read.pending.map((file) => `${target.label} ${file.name}`));
          status.drift.push(...read.edited.map((name) => `${target.label} ${name}`));
          status.unknown.push(...read.unknown.map((name) => `${target.label} ${name}`));
        }
        status.sizeBytes = await sizeOf(pool, tenant, targets);
        return status;
      });
    } catch (error) {
      return { ...base, applied: 0, pending: [], drift: [], unknown: [], sizeBytes: null, error: error instanceof Error ? error.message : String(error) };
    }
  });
}

async function sizeOf(pool: pg.Pool, tenant: FleetTenant, targets: readonly MigrationTarget[]): Promise<number> {
  if (tenant.level === 'TENANT' && tenant.isolation === 'DATABASE') {
    const { rows } = await pool.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    return Number(rows[0]!.size);
  }
  const schemas = [...new Set([tenant.schemaName ?? 'public', ...targets.map((target) => target.schema ?? 'public')])];
  const { rows } = await pool.query<{ size: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS size
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'm', 'p')`,
    [schemas],
  );
  return Number(rows[0]!.size);
}
