/**
 * Creating a tenant of any level: its row, its storage, its migrations, its cluster schemas.
 * Either all of it exists at the end, or none of it: a failure drops what was created and
 * deletes the row, then reports the cause.
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { migrate } from '../migrator/index.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { assertKey, assertSlug } from '../storage-names.js';
import { CLUSTER_MODULES, PARENT_LEVEL, type Isolation, type TenantLevelName } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { ensureClusterSchemas } from './cluster-schemas.js';
import { createTenantRole, dropTenantRole, grantSchemaToRole, newRolePassword } from '../isolation/tenant-role.js';
import { tenantPasswordContext } from '../secrets/stored-secrets.js';

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
  /** Stop after this step, for tests of the rollback path. */
  failAfter?: 'storage' | 'migrations';
};

export type ProvisionedTenant = StorageRecord & { slug: string; name: string; parentId: string | null };

const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export async function provisionTenant(tenancy: Tenancy, input: ProvisionInput): Promise<ProvisionedTenant> {
  assertKey(input.key);
  assertSlug(input.slug);
  if (input.name.trim() === '') throw new AppError(ErrorCode.BAD_USER_INPUT, 'name must not be empty', { details: { field: 'name' } });
  const domains = (input.domains ?? []).map((domain) => domain.trim().toLowerCase());
  for (const domain of domains) {
    if (!HOST.test(domain)) throw new AppError(ErrorCode.BAD_USER_INPUT, `${JSON.stringify(domain)} is not a host name`, { details: { field: 'domains' } });
  }
  if (input.level !== 'TENANT' && (input.isolation || input.clusterYears || input.dbServer)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'isolation, dbServer and clusterYears apply to TENANT level only');
  }
  await assertParent(tenancy, input.level, input.parentId ?? null);
  const plan = input.planKey ? await findPlan(tenancy, input.level, input.planKey) : undefined;
  if (plan && plan.seeders.length > 0 && !input.runSeeders) throw new Error(`plan ${plan.key} lists seeders, and this caller cannot run them`);

  const isolation: Isolation = input.isolation ?? 'DATABASE';
  const strategy = tenancy.strategyFor({ level: input.level, isolation });
  const names = strategy.namesFor(input.key);
  const record = await insertRow(tenancy, input, isolation, names, domains);
  // Lookups of its slug and domains may be cached as unknown: TenantCreated drops them everywhere.
  await tenancy.events.publish({ type: 'TenantCreated', tenantId: record.id });
  await tenancy.events.publish({ type: 'ProvisioningTenant', tenantId: record.id });
  await tenancy.servers.ensure(record.dbServerId);

  try {
    await strategy.createStorage(record);
    if (input.failAfter === 'storage') throw new Error('provisioning stopped after storage (failAfter)');
    const files = tenancy.migrations[levelTarget(input.level)];
    await strategy.withStoragePool(record, (pool) =>
      migrate(pool, { label: `${levelTarget(input.level)}:${input.key}`, schema: names.schemaName, files }),
    );
    if (input.level === 'TENANT') {
      await createRole(tenancy, record);
      const years = input.clusterYears ?? [new Date().getUTCFullYear()];
      for (const year of years) await ensureClusterSchemas(tenancy, record, year, CLUSTER_MODULES);
      // Recorded READY so clusterSchemas and the yearly job see them (the row goes with the tenant's).
      await tenancy.central.query(
        `INSERT INTO cluster_schemas (tenant_id, module, year, status) SELECT $1, m, y, 'READY' FROM unnest($2::text[]) m CROSS JOIN unnest($3::int[]) y
         ON CONFLICT (tenant_id, module, year) DO UPDATE SET status = 'READY', error = NULL, updated_at = now()`,
        [record.id, CLUSTER_MODULES, years],
      );
    }
    if (plan) {
      await tenancy.central.query('UPDATE tenants SET plan_id = $2, updated_at = now() WHERE id = $1', [record.id, plan.id]);
      if (plan.seeders.length > 0) await input.runSeeders!(record.id, plan.seeders);
    }
    if (input.failAfter === 'migrations') throw new Error('provisioning stopped after migrations (failAfter)');
    await tenancy.central.query("UPDATE tenants SET status = 'ACTIVE', updated_at = now() WHERE id = $1", [record.id]);
  } catch (error) {
    await strategy.dropStorage(record).catch((dropError: unknown) =>
      tenancy.logger.error({ err: dropError, tenantId: record.id }, 'could not drop storage of a failed provisioning'),
    );
    if (input.level === 'TENANT') {
      await dropTenantRole(tenancy.servers.adminFor(record.dbServerId), record, tenancy.naming.tenantRole(record.key)).catch((dropError: unknown) =>
        tenancy.logger.error({ err: dropError, tenantId: record.id }, 'could not drop the role of a failed provisioning'),
      );
    }
    await tenancy.central.query('DELETE FROM tenants WHERE id = $1', [record.id]);
    await tenancy.events.publish({ type: 'TenantDeleted', tenantId: record.id, hard: true });
    throw error;
  }
  await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: record.id, from: 'PROVISIONING', to: 'ACTIVE' });
  await tenancy.events.publish({ type: 'TenantProvisioned', tenantId: record.id });
  return record;
}

/**
 * The tenant's own role, its grants on the tenant schema, and its encrypted password in the row.
 * Sets `record.dbUsername`, so the cluster schemas made next are granted too.
 */
async function createRole(tenancy: Tenancy, record: ProvisionedTenant): Promise<void> {
  const role = tenancy.naming.tenantRole(record.key);
  const password = newRolePassword();
  const admin = tenancy.servers.adminFor(record.dbServerId);
  await createTenantRole(admin, record, role, password);
  record.dbUsername = role;
  await tenancy.strategyFor(record).withStoragePool(record, (pool) => grantSchemaToRole(pool, role, record.schemaName!));
  const secret = tenancy.keyRing.encrypt(password, tenantPasswordContext(record.id));
  await tenancy.central.query('UPDATE tenants SET db_username = $2, db_password_ciphertext = $3, db_password_key_id = $4 WHERE id = $1', [
    record.id,
    role,
    secret.ciphertext,
    secret.keyId,
  ]);
}

function levelTarget(level: TenantLevelName): 'app' | 'group' | 'tenant' {
  switch (level) {
    case 'APP':
      return 'app';
    case 'CENTRAL_TENANT':
      return 'group';
    case 'TENANT':
      return 'tenant';
    default: {
      const unreachable: never = level;
      throw new Error(`unknown level ${String(unreachable)}`);
    }
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
  input: ProvisionInput,
  isolation: Isolation,
  names: { databaseName: string; schemaName: string },
  domains: string[],
): Promise<ProvisionedTenant> {
  const client = await tenancy.central.connect();
  try {
    await client.query('BEGIN');
    // Placement locks the server rows until COMMIT: concurrent creates cannot overfill a server.
    const dbServerId = input.level === 'TENANT' ? await tenancy.servers.place(client, input.dbServer) : null;
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO tenants (level, parent_id, key, slug, name, status, isolation, database_name, schema_name, db_server_id)
       VALUES ($1, $2, $3, $4, $5, 'PROVISIONING', $6, $7, $8, $9) RETURNING id`,
      [input.level, input.parentId ?? null, input.key, input.slug, input.name.trim(), isolation, names.databaseName, names.schemaName, dbServerId],
    );
    const id = inserted.rows[0]!.id;
    for (const [index, domain] of domains.entries()) {
      await client.query('INSERT INTO domains (tenant_id, domain, is_primary) VALUES ($1, $2, $3)', [id, domain, index === 0]);
    }
    await client.query('COMMIT');
    return { id, level: input.level, key: input.key, slug: input.slug, name: input.name.trim(), parentId: input.parentId ?? null, isolation, dbServerId, ...names };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if ((error as { code?: string }).code === '23505') {
      const constraint = (error as { constraint?: string }).constraint ?? '';
      const what = constraint.includes('domain') ? 'domain' : constraint.includes('slug') ? 'slug' : 'key';
      throw new AppError(ErrorCode.CONFLICT, `A tenant with this ${what} already exists`, { details: { field: what } });
    }
    throw error;
  } finally {
    client.release();
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
