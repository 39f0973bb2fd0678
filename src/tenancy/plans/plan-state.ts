/**
 * What a tenant's plan and subscription allow, read in one query and cached per tenant by
 * tenancy (invalidated by TenantUpdated like every other tenant lookup). Expiry is a moment, not
 * a flag, so a cached state turns expired on time without a new read.
 */
import type pg from 'pg';
import { CLUSTER_MODULES } from '../model.js';

export type PlanState = {
  /** Cluster modules enabled: the plan's (every module without a plan) with the tenant's overrides applied. */
  modules: 'all' | readonly string[];
  /** The plan's limits, e.g. `{ maxPatients: 100 }`; none without a plan. */
  limits: Readonly<Record<string, number>>;
  /** The subscription was canceled or marked expired. */
  ended: boolean;
  /** When the subscription (or its trial) ends; null: open-ended. */
  endsAt: Date | null;
};

/** Per-tenant module switches (`enableModule`/`disableModule`), kept in `tenants.metadata.modules`. */
export type ModuleOverrides = Readonly<Record<string, boolean>>;

export function subscriptionExpired(state: PlanState, now = new Date()): boolean {
  return state.ended || (state.endsAt !== null && state.endsAt.getTime() <= now.getTime());
}

export async function loadPlanState(pool: pg.Pool, tenantId: string): Promise<PlanState> {
  const { rows } = await pool.query<{
    modules: unknown;
    limits: unknown;
    overrides: unknown;
    status: string | null;
    ends_at: Date | null;
    trial_ends_at: Date | null;
  }>(
    `SELECT p.modules, p.limits, t.metadata->'modules' AS overrides, s.status, s.ends_at, s.trial_ends_at
       FROM tenants t
       LEFT JOIN plans p ON p.id = t.plan_id
       LEFT JOIN LATERAL (SELECT status, ends_at, trial_ends_at FROM subscriptions WHERE tenant_id = t.id ORDER BY created_at DESC, id LIMIT 1) s ON true
      WHERE t.id = $1`,
    [tenantId],
  );
  const row = rows[0];
  const planModules = Array.isArray(row?.modules) ? row.modules.filter((m): m is string => typeof m === 'string') : 'all';
  const overrides = isRecord(row?.overrides) ? (row.overrides as ModuleOverrides) : {};
  const limits = isRecord(row?.limits)
    ? Object.fromEntries(Object.entries(row.limits).filter((entry): entry is [string, number] => typeof entry[1] === 'number'))
    : {};
  const ends = [row?.ends_at, row?.status === 'TRIALING' ? row.trial_ends_at : null].filter((d): d is Date => d instanceof Date);
  return {
    modules: applyOverrides(planModules, overrides),
    limits,
    ended: row?.status === 'EXPIRED' || row?.status === 'CANCELED',
    endsAt: ends.length > 0 ? new Date(Math.min(...ends.map((d) => d.getTime()))) : null,
  };
}

function applyOverrides(modules: 'all' | readonly string[], overrides: ModuleOverrides): 'all' | readonly string[] {
  if (Object.keys(overrides).length === 0) return modules;
  const base = new Set<string>(modules === 'all' ? CLUSTER_MODULES : modules);
  for (const [module, enabled] of Object.entries(overrides)) {
    if (enabled === true) base.add(module);
    else if (enabled === false) base.delete(module);
  }
  return [...base];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
