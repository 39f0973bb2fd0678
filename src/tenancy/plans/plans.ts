/**
 * Plans and subscriptions: the catalogue (`plans`, createPlan/updatePlan for system admins), a
 * tenant's plan change (which records a subscription: TRIALING for a plan with trial days, else
 * ACTIVE) and per-tenant module switches. Each tenant change is published as TenantUpdated once
 * committed, so every process drops its cached plan state for that tenant.
 */
import { z } from 'zod';
import { AppError, ErrorCode } from '../../errors/index.js';
import { parseInput } from '../../resolvers/common/validation.js';
import { type LifecycleActor } from '../lifecycle/tenant-lifecycle.js';
import { CLUSTER_MODULES, UUID_PATTERN, type ClusterModule } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { inTransaction } from '../../infra/db-transaction.js';

/** Limits a plan may set; each is enforced where its resource is created. */
export const PLAN_LIMITS = ['maxPatients'] as const;
export type PlanLimitName = (typeof PLAN_LIMITS)[number];

export type PlanInfo = {
  id: string;
  key: string;
  name: string;
  description: string | null;
  modules: string[];
  limits: Partial<Record<PlanLimitName, number>>;
  trialDays: number;
  seeders: string[];
  isActive: boolean;
};

export type PlanInput = {
  key?: string | null;
  name?: string | null;
  description?: string | null;
  modules?: string[] | null;
  limits?: Partial<Record<PlanLimitName, number | null>> | null;
  trialDays?: number | null;
  isActive?: boolean | null;
};

export type SubscriptionInfo = { tenantId: string; planKey: string; status: 'TRIALING' | 'ACTIVE'; startsAt: Date; trialEndsAt: Date | null };

const limitsSchema = z
  .object(Object.fromEntries(PLAN_LIMITS.map((name) => [name, z.number().int(`${name} must be a whole number`).min(0, `${name} must be 0 or more`).max(100_000_000).nullish()])))
  .strict();

const fields = {
  name: z.string().trim().min(1, 'name must be 1 to 100 characters').max(100, 'name must be 1 to 100 characters'),
  description: z.string().trim().max(1000, 'description is at most 1000 characters').nullish(),
  modules: z
    .array(z.string().refine((m) => (CLUSTER_MODULES as readonly string[]).includes(m), `modules must be among ${CLUSTER_MODULES.join(', ')}`))
    .max(CLUSTER_MODULES.length)
    .refine((list) => new Set(list).size === list.length, 'modules must not repeat'),
  limits: limitsSchema,
  trialDays: z.number().int('trialDays must be a whole number').min(0, 'trialDays must be 0 to 365').max(365, 'trialDays must be 0 to 365'),
  isActive: z.boolean(),
};
const createSchema = z.object({
  key: z.string().regex(/^[a-z][a-z0-9_-]{1,40}$/, 'key must be 2 to 41 lowercase letters, digits, - or _, starting with a letter'),
  ...fields,
  modules: fields.modules.default([...CLUSTER_MODULES]),
  limits: fields.limits.nullish(),
  trialDays: fields.trialDays.nullish(),
  isActive: fields.isActive.nullish(),
});
const updateSchema = z.object({
  name: fields.name.nullish(),
  description: fields.description,
  modules: fields.modules.nullish(),
  limits: fields.limits.nullish(),
  trialDays: fields.trialDays.nullish(),
  isActive: fields.isActive.nullish(),
});

const PLAN_COLUMNS = `id, key, name, description, modules, limits, trial_days AS "trialDays", seeders, is_active AS "isActive"`;
const notFound = () => new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');

/** Drops unset limits: `{ maxPatients: null }` means "no limit". */
const compactLimits = (limits: Record<string, number | null | undefined>) =>
  Object.fromEntries(Object.entries(limits).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));

export type PlanService = ReturnType<typeof makePlanService>;

export function makePlanService(tenancy: Tenancy) {
  const pool = tenancy.central;

  /** A TENANT the actor may manage (system admin, or admin of its group or app); NOT_FOUND otherwise. */
  async function manageableTenant(actor: LifecycleActor, tenantId: string): Promise<{ id: string; metadata: Record<string, unknown> }> {
    if (!UUID_PATTERN.test(tenantId)) throw notFound();
    const { rows } = await pool.query<{ id: string; level: string; parentId: string | null; grandparentId: string | null; metadata: Record<string, unknown> }>(
      `SELECT t.id, t.level, t.parent_id AS "parentId", p.parent_id AS "grandparentId", t.metadata
         FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id WHERE t.id = $1 AND t.status <> 'DELETED'`,
      [tenantId],
    );
    const row = rows[0];
    if (!row || !(actor.kind === 'system' || actor.tenantId === row.parentId || actor.tenantId === row.grandparentId)) throw notFound();
    if (row.level !== 'TENANT') throw new AppError(ErrorCode.BAD_USER_INPUT, 'Plans apply to TENANT level tenants only', { details: { field: 'tenantId' } });
    return row;
  }

  async function changed(tenantId: string): Promise<void> {
    await tenancy.events.publish({ type: 'TenantUpdated', tenantId });
  }

  return {
    async list(): Promise<PlanInfo[]> {
      const { rows } = await pool.query<PlanInfo>(`SELECT ${PLAN_COLUMNS} FROM plans ORDER BY key`);
      return rows;
    },

    async create(input: PlanInput): Promise<PlanInfo> {
      const data = parseInput(createSchema, input);
      try {
        const { rows } = await pool.query<PlanInfo>(
          `INSERT INTO plans (key, name, description, modules, limits, trial_days, is_active)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7) RETURNING ${PLAN_COLUMNS}`,
          [data.key, data.name, data.description ?? null, JSON.stringify(data.modules), JSON.stringify(compactLimits(data.limits ?? {})), data.trialDays ?? 0, data.isActive ?? true],
        );
        return rows[0]!;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new AppError(ErrorCode.CONFLICT, `A plan keyed ${data.key} exists`, { details: { field: 'key' } });
        throw error;
      }
    },

    async update(key: string, input: PlanInput): Promise<PlanInfo> {
      const data = parseInput(updateSchema, input);
      const { rows } = await pool.query<PlanInfo & { tenantIds: string[] }>(
        `WITH updated AS (
           UPDATE plans SET name = COALESCE($2, name),
                            description = CASE WHEN $3::boolean THEN $4 ELSE description END,
                            modules = COALESCE($5::jsonb, modules),
                            limits = COALESCE($6::jsonb, limits),
                            trial_days = COALESCE($7, trial_days),
                            is_active = COALESCE($8, is_active),
                            updated_at = now()
            WHERE key = $1 RETURNING *)
         SELECT ${PLAN_COLUMNS}, ARRAY(SELECT t.id FROM tenants t WHERE t.plan_id = updated.id) AS "tenantIds" FROM updated`,
        [
          key,
          data.name ?? null,
          data.description !== undefined,
          data.description ?? null,
          data.modules ? JSON.stringify(data.modules) : null,
          data.limits ? JSON.stringify(compactLimits(data.limits)) : null,
          data.trialDays ?? null,
          data.isActive ?? null,
        ],
      );
      const row = rows[0];
      if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Plan not found', { details: { field: 'key' } });
      // Every tenant on the plan sees its new modules and limits at once.
      for (const tenantId of row.tenantIds) await changed(tenantId);
      const { tenantIds: _tenants, ...plan } = row;
      return plan;
    },

    /** Moves a tenant to a plan and starts a subscription on it (the previous one is closed). */
    async changePlan(actor: LifecycleActor, tenantId: string, planKey: string): Promise<SubscriptionInfo> {
      const tenant = await manageableTenant(actor, tenantId);
      const { status, subscription } = await inTransaction(pool, async (client) => {
        const plan = (
          await client.query<{ id: string; trialDays: number }>(`SELECT id, trial_days AS "trialDays" FROM plans WHERE key = $1 AND is_active`, [planKey])
        ).rows[0];
        if (!plan) throw new AppError(ErrorCode.BAD_USER_INPUT, `No active plan is keyed ${planKey}`, { details: { field: 'planKey' } });
        await client.query(
          `UPDATE subscriptions SET status = 'CANCELED', canceled_at = now(), updated_at = now()
            WHERE tenant_id = $1 AND status IN ('TRIALING', 'ACTIVE', 'PAST_DUE')`,
          [tenant.id],
        );
        const status: SubscriptionInfo['status'] = plan.trialDays > 0 ? 'TRIALING' : 'ACTIVE';
        const { rows } = await client.query<{ startsAt: Date; trialEndsAt: Date | null }>(
          `INSERT INTO subscriptions (tenant_id, plan_id, status, trial_ends_at)
           VALUES ($1, $2, $3, CASE WHEN $4::int > 0 THEN now() + make_interval(days => $4::int) END)
           RETURNING starts_at AS "startsAt", trial_ends_at AS "trialEndsAt"`,
          [tenant.id, plan.id, status, plan.trialDays],
        );
        const subscription = rows[0]!;
        await client.query(`UPDATE tenants SET plan_id = $2, trial_ends_at = $3, expires_at = NULL, updated_at = now() WHERE id = $1`, [
          tenant.id,
          plan.id,
          subscription.trialEndsAt,
        ]);
        return { status, subscription };
      });
      await changed(tenant.id);
      return { tenantId: tenant.id, planKey, status, startsAt: subscription.startsAt, trialEndsAt: subscription.trialEndsAt };
    },

    /** Switches a cluster module on or off for one tenant, over what its plan says. */
    async setModule(actor: LifecycleActor, tenantId: string, module: string, enabled: boolean): Promise<string[]> {
      if (!(CLUSTER_MODULES as readonly string[]).includes(module)) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `module must be among ${CLUSTER_MODULES.join(', ')}`, { details: { field: 'module' } });
      }
      const tenant = await manageableTenant(actor, tenantId);
      await pool.query(
        `UPDATE tenants SET metadata = jsonb_set(metadata, '{modules}', COALESCE(metadata->'modules', '{}'::jsonb) || jsonb_build_object($2::text, $3::boolean)),
                            updated_at = now()
          WHERE id = $1`,
        [tenant.id, module as ClusterModule, enabled],
      );
      await changed(tenant.id);
      const modules = await tenancy.planModules(tenant.id);
      return modules === 'all' ? [...CLUSTER_MODULES] : [...modules];
    },
  };
}
