/**
 * Creating a tenant of any level: validation, then the row with its first provisioning run (one
 * transaction), then the steps (provisioning-steps.ts) — in a durable job for createTenant, or in
 * this process for demo data and fixtures (`provisionTenant`).
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../../errors/index.js';
import { assertEmail } from '../../auth/accounts.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { assertKey, assertSlug } from '../storage-names.js';
import { PARENT_LEVEL, type Isolation, type TenantLevelName } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { newTenantClusterYear } from '../cluster-years.js';
import { driveProvisioning } from './provisioning-driver.js';
import { insertRun } from './provisioning-runs.js';
import { type RunInput, type StepName } from './provisioning-steps.js';
import { inTransaction } from '../../infra/db-transaction.js';

export type ProvisionInput = {
  level: TenantLevelName;
  /** Required for groups (an APP) and tenants (a CENTRAL_TENANT); absent for apps. */
  parentId?: string | null;
  key: string;
  slug: string;
  name: string;
  /** TENANT only; default DATABASE. */
  isolation?: Isolation;
  /** Lower-case host names; the first is primary. */
  domains?: string[];
  /** TENANT only: the database server (name or id); default the active server with the fewest tenants. */
  dbServer?: string | null;
  /** TENANT only: years whose cluster schemas are made now; default the current year. */
  clusterYears?: number[];
  /** TENANT only: the plan (`plans.key`); its seeders run once the storage is ready. Default none. */
  planKey?: string | null;
  /**
   * Runs seeders by name in the new tenant's context (the runtime's `runInTenant`). Needed when
   * the plan lists seeders; provisioning fails, and undoes itself, when a seeder fails.
   */
  runSeeders?: (tenantId: string, seeders: readonly string[]) => Promise<void>;
  /** IANA time zone name; default UTC. */
  timezone?: string | null;
  /** TENANT and CENTRAL_TENANT: the first admin (an account and an admin membership). */
  admin?: { email: string; name?: string | null } | null;
  /** A system admin's domains are stored verified; an ancestor admin's are checked (default true: internal callers). */
  domainsVouched?: boolean;
  /** Stop after this step (or, when it does not apply, before activate), for tests of the undo path. */
  failAfter?: StepName;
};

export type ProvisionedTenant = StorageRecord & { slug: string; name: string; parentId: string | null };

const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** A validated request to provision: what the row gets and what the run needs. */
export type PreparedProvision = {
  input: ProvisionInput;
  isolation: Isolation;
  names: { databaseName: string; schemaName: string };
  domains: string[];
  planId: string | null;
  timezone: string;
  run: RunInput;
};

/**
 * Checks everything that can be checked before anything is written: names, domains, parent,
 * plan, timezone, first admin. Placement and uniqueness are checked by the insert itself.
 */
export async function prepareProvision(tenancy: Tenancy, input: ProvisionInput): Promise<PreparedProvision> {
  assertKey(input.key);
  assertSlug(input.slug);
  if (input.name.trim() === '') throw new AppError(ErrorCode.BAD_USER_INPUT, 'name must not be empty', { details: { field: 'name' } });
  const domains = (input.domains ?? []).map((domain) => domain.trim().toLowerCase());
  for (const domain of domains) {
    if (!HOST.test(domain)) throw new AppError(ErrorCode.BAD_USER_INPUT, `${JSON.stringify(domain)} is not a host name`, { details: { field: 'domains' } });
  }
  if (new Set(domains).size !== domains.length) throw new AppError(ErrorCode.BAD_USER_INPUT, 'a domain is listed twice', { details: { field: 'domains' } });
  if (input.level !== 'TENANT' && (input.isolation || input.clusterYears || input.dbServer)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'isolation, dbServer and clusterYears apply to TENANT level only');
  }
  const timezone = assertTimezone(input.timezone ?? 'UTC');
  const admin = input.admin ? { email: assertAdminEmail(input.admin.email), name: input.admin.name?.trim() || input.admin.email.trim() } : null;
  if (admin && input.level === 'APP') throw new AppError(ErrorCode.BAD_USER_INPUT, 'a first admin is for TENANT and CENTRAL_TENANT levels', { details: { field: 'admin' } });
  await assertParent(tenancy, input.level, input.parentId ?? null);
  const plan = input.planKey ? await findPlan(tenancy, input.level, input.planKey) : undefined;
  const isolation: Isolation = input.isolation ?? 'DATABASE';
  const names = tenancy.strategyFor({ level: input.level, isolation }).namesFor(input.key);
  return {
    input,
    isolation,
    names,
    domains,
    planId: plan?.id ?? null,
    timezone,
    run: {
      seeders: plan?.seeders ?? [],
      clusterYears: input.level === 'TENANT' ? (input.clusterYears ?? [newTenantClusterYear()]) : [],
      admin,
      domainsVouched: input.domainsVouched ?? true,
      ...(input.failAfter ? { failAfter: input.failAfter } : {}),
    },
  };
}

/**
 * The row (PROVISIONING), its domains and its first provisioning run, in one central transaction;
 * `enqueue` joins it (the pg-boss job row), so either all of them exist or none.
 */
export async function insertProvisioning(
  tenancy: Tenancy,
  prepared: PreparedProvision,
  enqueue?: (db: pg.PoolClient, tenantId: string) => Promise<unknown>,
): Promise<ProvisionedTenant> {
  const record = await insertRow(tenancy, prepared, enqueue);
  // Lookups of its slug and domains may be cached as unknown: TenantCreated drops them everywhere.
  await tenancy.events.publish({ type: 'TenantCreated', tenantId: record.id });
  return record;
}

/**
 * Creating a tenant in this process, start to end (demo data, fixtures, tests): the same row, run
 * and steps as the job, driven here. Either all of it exists at the end, or none of it: a failure
 * undoes the steps, deletes the row, then throws the cause.
 */
export async function provisionTenant(tenancy: Tenancy, input: ProvisionInput): Promise<ProvisionedTenant> {
  const prepared = await prepareProvision(tenancy, input);
  if (prepared.run.seeders.length > 0 && !input.runSeeders) throw new Error(`plan ${input.planKey} lists seeders, and this caller cannot run them`);
  const record = await insertProvisioning(tenancy, prepared);
  const result = await driveProvisioning(
    { tenancy, runSeeders: input.runSeeders, queueDomainCheck: async () => {}, stepDelayMs: tenancy.config.tenancy.provisioningStepDelayMs },
    record.id,
  );
  if (result.outcome !== 'ACTIVE') {
    const undone = await tenancy.central.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [record.id]);
    if (undone.rows[0]?.status === 'FAILED') {
      await tenancy.central.query('DELETE FROM tenants WHERE id = $1', [record.id]);
      await tenancy.events.publish({ type: 'TenantDeleted', tenantId: record.id, hard: true });
    }
    throw result.error ?? new Error(`provisioning of ${record.slug} did not finish (${result.outcome})`);
  }
  const { rows } = await tenancy.central.query<{ dbUsername: string | null }>('SELECT db_username AS "dbUsername" FROM tenants WHERE id = $1', [record.id]);
  return { ...record, dbUsername: rows[0]?.dbUsername ?? null };
}

/** An IANA time zone name PostgreSQL and Intl both know (e.g. Europe/Berlin); BAD_USER_INPUT naming timezone otherwise. */
export function assertTimezone(name: string): string {
  const value = name.trim();
  let valid = value.length > 0 && value.length <= 64 && /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value);
  if (valid) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new AppError(ErrorCode.BAD_USER_INPUT, `${JSON.stringify(name)} is not a time zone name (e.g. Europe/Berlin)`, { details: { field: 'timezone' } });
  return value;
}

function assertAdminEmail(email: string): string {
  try {
    return assertEmail(email);
  } catch {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'admin.email is not an email address', { details: { field: 'admin.email' } });
  }
}

async function assertParent(tenancy: Tenancy, level: TenantLevelName, parentId: string | null): Promise<void> {
  const expected = PARENT_LEVEL[level];
  if (expected === null) {
    if (parentId) throw new AppError(ErrorCode.BAD_USER_INPUT, 'An APP has no parent', { details: { field: 'parentId' } });
    return;
  }
  if (!parentId) throw new AppError(ErrorCode.BAD_USER_INPUT, `A ${level} needs a parent ${expected}`, { details: { field: 'parentId' } });
  const parent = await tenancy.central
    .query<{ level: string }>('SELECT level FROM tenants WHERE id = $1 AND deleted_at IS NULL', [parentId])
    .catch(() => ({ rows: [] as { level: string }[] })); // a malformed uuid is simply not found
  if (parent.rows[0]?.level !== expected) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `The parent of a ${level} must be an existing ${expected}`, { details: { field: 'parentId' } });
  }
}

async function insertRow(
  tenancy: Tenancy,
  prepared: PreparedProvision,
  enqueue?: (db: pg.PoolClient, tenantId: string) => Promise<unknown>,
): Promise<ProvisionedTenant> {
  const { input, isolation, names, domains } = prepared;
  try {
    return await inTransaction(tenancy.central, async (client) => {
      // Placement locks the server rows until COMMIT: concurrent creates cannot overfill a server.
      const dbServerId = input.level === 'TENANT' ? await tenancy.servers.place(client, input.dbServer) : null;
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO tenants (level, parent_id, key, slug, name, status, isolation, database_name, schema_name, db_server_id, plan_id, timezone)
         VALUES ($1, $2, $3, $4, $5, 'PROVISIONING', $6, $7, $8, $9, $10, $11) RETURNING id`,
        [input.level, input.parentId ?? null, input.key, input.slug, input.name.trim(), isolation, names.databaseName, names.schemaName, dbServerId, prepared.planId, prepared.timezone],
      );
      const id = inserted.rows[0]!.id;
      for (const [index, domain] of domains.entries()) {
        await client.query('INSERT INTO domains (tenant_id, domain, is_primary) VALUES ($1, $2, $3)', [id, domain, index === 0]);
      }
      await insertRun(client, id, 1, prepared.run);
      if (enqueue) await enqueue(client, id);
      return { id, level: input.level, key: input.key, slug: input.slug, name: input.name.trim(), parentId: input.parentId ?? null, isolation, dbServerId, ...names };
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      const constraint = (error as { constraint?: string }).constraint ?? '';
      const what = constraint.includes('domain') ? 'domain' : constraint.includes('slug') ? 'slug' : 'key';
      throw new AppError(ErrorCode.CONFLICT, `A tenant with this ${what} already exists`, { details: { field: what } });
    }
    throw error;
  }
}

/** An active plan by key, with its seeders; BAD_USER_INPUT naming planKey otherwise. */
async function findPlan(tenancy: Tenancy, level: TenantLevelName, key: string): Promise<{ id: string; key: string; seeders: string[] }> {
  if (level !== 'TENANT') throw new AppError(ErrorCode.BAD_USER_INPUT, 'planKey applies to TENANT level only', { details: { field: 'planKey' } });
  const { rows } = await tenancy.central.query<{ id: string; key: string; seeders: unknown }>('SELECT id, key, seeders FROM plans WHERE key = $1 AND is_active', [key]);
  const row = rows[0];
  if (!row) throw new AppError(ErrorCode.BAD_USER_INPUT, `No active plan has the key ${JSON.stringify(key)}`, { details: { field: 'planKey' } });
  const seeders = Array.isArray(row.seeders) ? row.seeders.filter((name): name is string => typeof name === 'string') : [];
  return { id: row.id, key: row.key, seeders };
}
