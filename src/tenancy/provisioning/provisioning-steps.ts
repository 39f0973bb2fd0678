/**
 * The steps of provisioning a tenant, each defined once, and the one undo that removes what any of
 * them made. Both the durable job and the in-process path (demo data, fixtures) run these.
 *
 * Steps are not individually resumable; the attempt is: an attempt that was interrupted is undone
 * as a whole (undo is idempotent: it drops by name whatever is there) and run again from the
 * start. That keeps each step simple and still lets a job run again after a crash.
 */
import { type ProvisionedTenant } from './provision-tenant.js';
import { migrate } from '../migrator/index.js';
import { provisionClusterSchemas } from './cluster-schemas.js';
import type pg from 'pg';
import { createTenantRole, dropTenantRole, newRolePassword, schemaPrivilegesSql, setTenantRolePassword } from '../isolation/tenant-role.js';
import { dropClaimedSpare, type SchemaSpares } from './schema-spares.js';
import { tenantPasswordContext } from '../secrets/stored-secrets.js';
import { CLUSTER_MODULES, type TenantLevelName } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { assertEmail } from '../../auth/accounts.js';
import { TENANT_ADMIN_ROLE } from '../identification/identification-types.js';

// The role comes before the migrations: a SCHEMA tenant's tables are granted to it as they are made.
export const STEP_NAMES = ['storage', 'role', 'migrations', 'cluster-schemas', 'seeders', 'admin', 'domains', 'activate'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** What a run needs beyond the tenant row. Stored in `provisioning_runs.input`: never a secret. */
export type RunInput = {
  seeders: string[];
  clusterYears: number[];
  admin: { email: string; name: string } | null;
  /** A system admin vouches for the domains it gives (stored verified); anyone else's are checked. */
  domainsVouched: boolean;
  /** Tests of the undo path (in-process provisioning only): fail right after this step. */
  failAfter?: StepName;
};

/** What steps made that undo must remove, and that the row does not say. */
export type RunState = {
  adminAccountId?: string;
  adminMembershipId?: string;
  /** The spare SCHEMA storage this attempt claimed (schema-spares.ts): its names until renamed. */
  spareKey?: string;
};

export type StepContext = {
  tenancy: Tenancy;
  runId: string;
  record: ProvisionedTenant;
  /** Spare SCHEMA storage to claim instead of making it; absent: always make it. */
  spares?: SchemaSpares;
  /**
   * An admin pool on the database holding the tenant's storage, one for the whole attempt: a
   * connection start per step was a large part of provisioning. It connects on first use, so a
   * DATABASE tenant's is usable once the storage step has made the database.
   */
  storagePool: pg.Pool;
  input: RunInput;
  state: RunState;
  saveState(patch: RunState): Promise<void>;
  runSeeders?: (tenantId: string, seeders: readonly string[]) => Promise<void>;
  /** Queues the verification check of one domain (src/tenancy/domains). */
  queueDomainCheck(domainId: string): Promise<void>;
};

export type Step = {
  name: StepName;
  appliesTo(record: ProvisionedTenant, input: RunInput): boolean;
  run(ctx: StepContext): Promise<void>;
  /**
   * Runs at the same time as the neighbouring steps marked so (each still recorded on its own):
   * the tenant schema's migration and the cluster schemas' touch different schemas, and side by
   * side they take the time of the longer one.
   */
  concurrent?: true;
};

export const PROVISIONING_STEPS: readonly Step[] = [
  {
    name: 'storage',
    appliesTo: () => true,
    // DATABASE tenants are cloned from the server's template (database-isolation.ts); SCHEMA
    // tenants take a spare when one is ready (schema-spares.ts), its tables made already.
    run: async ({ tenancy, record, runId, state, spares, storagePool, input }) => {
      if (spares && (await spares.claim(record, runId, state, storagePool, input.clusterYears))) return;
      await tenancy.strategyFor(record).createStorage(record);
    },
  },
  { name: 'role', appliesTo: (record) => record.level === 'TENANT', run: ({ tenancy, record, state, storagePool }) => createRole(tenancy, record, state, storagePool) },
  {
    name: 'migrations',
    // A DATABASE tenant's clone of the template carries them already.
    appliesTo: (record) => !(record.level === 'TENANT' && record.isolation === 'DATABASE'),
    concurrent: true,
    run: async ({ tenancy, record, state, storagePool }) => {
      const target = levelTarget(record.level);
      const schema = record.schemaName!;
      // A SCHEMA tenant's role gets each table as it is made (createTenantRole granted only the
      // schema). A claimed spare's role has its default privileges already: nothing to set.
      const setupSql = record.dbUsername && !state.spareKey ? schemaPrivilegesSql(record.dbUsername, schema) : undefined;
      await migrate(storagePool, { label: `${target}:${record.key}`, schema, files: tenancy.migrations[target], setupSql });
    },
  },
  {
    name: 'cluster-schemas',
    appliesTo: (record) => record.level === 'TENANT',
    concurrent: true,
    run: async ({ tenancy, record, input, storagePool }) => {
      const enabled = await tenancy.planModules(record.id);
      const modules = CLUSTER_MODULES.filter((module) => enabled === 'all' || enabled.includes(module));
      await provisionClusterSchemas(tenancy, record, input.clusterYears, modules, storagePool);
      // Recorded READY so clusterSchemas and the yearly job see them (the rows go with the tenant's).
      await tenancy.central.query(
        `INSERT INTO cluster_schemas (tenant_id, module, year, status) SELECT $1, m, y, 'READY' FROM unnest($2::text[]) m CROSS JOIN unnest($3::int[]) y
         ON CONFLICT (tenant_id, module, year) DO UPDATE SET status = 'READY', error = NULL, updated_at = now()`,
        [record.id, modules, input.clusterYears],
      );
    },
  },
  {
    name: 'seeders',
    appliesTo: (_record, input) => input.seeders.length > 0,
    run: async ({ record, input, runSeeders }) => {
      if (!runSeeders) throw new Error('this process cannot run seeders');
      await runSeeders(record.id, input.seeders);
    },
  },
  {
    name: 'admin',
    appliesTo: (_record, input) => input.admin !== null,
    run: ({ tenancy, record, input, saveState }) => createFirstAdmin(tenancy, record.id, input.admin!, saveState),
  },
  {
    name: 'domains',
    appliesTo: () => true,
    run: async ({ tenancy, record, input, queueDomainCheck }) => {
      if (input.domainsVouched) {
        await tenancy.central.query('UPDATE domains SET is_verified = true, verified_at = coalesce(verified_at, now()) WHERE tenant_id = $1', [record.id]);
        return;
      }
      const { rows } = await tenancy.central.query<{ id: string }>('SELECT id FROM domains WHERE tenant_id = $1 AND NOT is_verified', [record.id]);
      for (const { id } of rows) await queueDomainCheck(id);
    },
  },
  // ACTIVE is written by the driver, in one transaction with the run's own end (provisioning-runs.ts).
  { name: 'activate', appliesTo: () => true, run: async () => {} },
];

export function stepsFor(record: ProvisionedTenant, input: RunInput): Step[] {
  return PROVISIONING_STEPS.filter((step) => step.appliesTo(record, input));
}

/**
 * Removes whatever an attempt made, newest first: the first admin it created, the cluster schema
 * rows, the role, the storage (with its cluster schemas). Idempotent: each part drops by name and
 * finds nothing the second time. Every part is tried; the first failure is thrown at the end.
 */
export async function undoProvisioning(tenancy: Tenancy, record: ProvisionedTenant, state: RunState): Promise<void> {
  const failures: unknown[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      tenancy.logger.error({ err: error, tenantId: record.id, part: what }, 'undoing a provisioning step failed');
      failures.push(error);
    }
  };
  await attempt('admin', async () => {
    if (state.adminMembershipId) await tenancy.central.query('DELETE FROM memberships WHERE id = $1', [state.adminMembershipId]);
    // Only an account this run created, and only while nothing else uses it.
    if (state.adminAccountId) {
      await tenancy.central.query('DELETE FROM accounts a WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id)', [state.adminAccountId]);
    }
  });
  await attempt('cluster-schemas', () => tenancy.central.query('DELETE FROM cluster_schemas WHERE tenant_id = $1', [record.id]));
  await tenancy.servers.ensure(record.dbServerId).catch((error: unknown) => failures.push(error));
  if (record.level === 'TENANT') {
    await attempt('role', async () => {
      await dropTenantRole(tenancy.servers.adminFor(record.dbServerId), record, tenancy.naming.tenantRole(record.key));
      await tenancy.central.query('UPDATE tenants SET db_username = NULL, db_password_ciphertext = NULL, db_password_key_id = NULL WHERE id = $1', [record.id]);
      record.dbUsername = null;
    });
  }
  await attempt('storage', () => tenancy.strategyFor(record).dropStorage(record));
  if (state.spareKey) await attempt('claimed spare', () => dropClaimedSpare(tenancy, record, state.spareKey!));
  if (failures.length > 0) throw failures[0];
}

/**
 * The tenant's own role, its grants on the tenant's storage, and its encrypted password in the row.
 * Sets `record.dbUsername`, so the schemas migrated next are granted too.
 */
async function createRole(tenancy: Tenancy, record: ProvisionedTenant, state: RunState, storagePool: pg.Pool): Promise<void> {
  const role = tenancy.naming.tenantRole(record.key);
  const password = newRolePassword();
  // A claimed spare's role was renamed to this name with its grants: it only needs the tenant's own password.
  if (state.spareKey) await setTenantRolePassword(storagePool, role, password);
  else await createTenantRole(storagePool, record, role, password);
  record.dbUsername = role;
  const secret = tenancy.keyRing.encrypt(password, tenantPasswordContext(record.id));
  await tenancy.central.query('UPDATE tenants SET db_username = $2, db_password_ciphertext = $3, db_password_key_id = $4 WHERE id = $1', [
    record.id,
    role,
    secret.ciphertext,
    secret.keyId,
  ]);
}

/**
 * The first admin: an account (made without a password when new, as `inviteMember` makes one) and
 * an admin membership of the tenant. createTenant made the invitation with the tenant row
 * (src/tenancy/lifecycle/create-tenant.ts): it names this email, and acceptInvitation works once
 * this membership exists and the tenant is ACTIVE.
 */
async function createFirstAdmin(tenancy: Tenancy, tenantId: string, admin: { email: string; name: string }, saveState: (patch: RunState) => Promise<void>): Promise<void> {
  const email = assertEmail(admin.email);
  const account = await tenancy.central.query<{ id: string; inserted: boolean }>(
    `INSERT INTO accounts (email, name) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id, (xmax = 0) AS inserted`,
    [email, admin.name],
  );
  const { id: accountId, inserted } = account.rows[0]!;
  if (inserted) await saveState({ adminAccountId: accountId });
  const membership = await tenancy.central.query<{ id: string }>(
    `INSERT INTO memberships (account_id, tenant_id, role, abilities) VALUES ($1, $2, $3, '[]'::jsonb)
     ON CONFLICT (account_id, tenant_id) DO UPDATE SET role = EXCLUDED.role RETURNING id`,
    [accountId, tenantId, TENANT_ADMIN_ROLE],
  );
  await saveState({ adminMembershipId: membership.rows[0]!.id });
}

export function levelTarget(level: TenantLevelName): 'app' | 'group' | 'tenant' {
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
