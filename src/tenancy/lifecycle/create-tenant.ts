/**
 * `createTenant` for system admins (any level) and admins of an ancestor (below it). Validates
 * everything it can, then writes the row (PROVISIONING), its first provisioning run and the
 * provisioning job in one transaction, and answers at once; the job does the steps
 * (src/tenancy/provisioning/).
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { issueInvitation, type IssuedInvitation } from '../../auth/invitations.js';
import { KEY_PATTERN, TENANT_LEVELS, type Isolation, type TenantLevelName } from '../model.js';
import { insertProvisioning, prepareProvision, type ProvisionedTenant } from '../provisioning/provision-tenant.js';
import { type ProvisioningService } from '../provisioning/provisioning-service.js';
import { assertSlug } from '../storage-names.js';
import { type Tenancy } from '../tenancy.js';
import { type LifecycleActor } from './tenant-lifecycle.js';

export type CreateTenantInput = {
  level: string;
  parentId?: string | null;
  slug: string;
  name: string;
  /** Default: the slug with `-` as `_`. */
  key?: string | null;
  isolation?: Isolation | null;
  domains?: string[] | null;
  dbServer?: string | null;
  /** TENANT only: the plan (`plans.key`); its default seeders run in the new tenant. */
  planKey?: string | null;
  /** IANA time zone name; default UTC. */
  timezone?: string | null;
  /** TENANT and CENTRAL_TENANT: the first admin. */
  admin?: { email: string; name?: string | null } | null;
};

/**
 * The new tenant, and the first admin's invitation when one was made: its token exists only here
 * (the caller's answer), never in the run's input, a log or a query.
 */
export type CreatedTenant = ProvisionedTenant & { firstAdminInvitation: IssuedInvitation | null };

/** Runs seeders by name in a tenant's context (src/seeders/run-seeders.ts). */
export type SeederRunner = (tenantId: string, seeders: readonly string[]) => Promise<void>;

export async function createTenant(
  tenancy: Tenancy,
  provisioning: Pick<ProvisioningService, 'enqueue' | 'kick'>,
  actor: LifecycleActor,
  input: CreateTenantInput,
): Promise<CreatedTenant> {
  if (!(TENANT_LEVELS as readonly string[]).includes(input.level)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `level must be one of ${TENANT_LEVELS.join(', ')}`, { details: { field: 'level' } });
  }
  const level = input.level as TenantLevelName;
  assertSlug(input.slug); // before a key is derived from it
  const key = input.key ?? input.slug.replace(/-/g, '_');
  if (!input.key && !KEY_PATTERN.test(key)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `No key can be made from the slug ${JSON.stringify(input.slug)}; give a key (a lower-case letter, then letters, digits or _)`, {
      details: { field: 'key' },
    });
  }
  if (actor.kind === 'admin') await assertParentInSubtree(tenancy, actor.tenantId, level, input.parentId ?? null);
  const prepared = await prepareProvision(tenancy, {
    level,
    parentId: input.parentId ?? null,
    key,
    slug: input.slug,
    name: input.name,
    isolation: input.isolation ?? undefined,
    domains: input.domains ?? undefined,
    dbServer: input.dbServer ?? undefined,
    planKey: input.planKey ?? undefined,
    timezone: input.timezone ?? undefined,
    admin: input.admin ?? undefined,
    // A system admin vouches for the domains it names (as its verifyDomain does); an ancestor's admin's are checked.
    domainsVouched: actor.kind === 'system',
  });
  let firstAdminInvitation: IssuedInvitation | null = null;
  const admin = prepared.run.admin;
  // In the row's transaction: the invitation exists exactly when the tenant does. It names the
  // email; provisioning's admin step makes the account and membership accepting it needs.
  const record = await insertProvisioning(tenancy, prepared, async (db, tenantId) => {
    await provisioning.enqueue(db, tenantId);
    if (admin) {
      const settings = { ttlHours: tenancy.config.auth.invitationTtlHours, url: tenancy.config.auth.invitationUrl };
      firstAdminInvitation = await issueInvitation(db, settings, { tenantId, email: admin.email, invitedBy: null, now: new Date() });
    }
  });
  provisioning.kick(record.id);
  return { ...record, firstAdminInvitation };
}

/** A tenant admin creates below its own tenant only: the parent is its tenant or a child of it. */
async function assertParentInSubtree(tenancy: Tenancy, adminOf: string, level: TenantLevelName, parentId: string | null): Promise<void> {
  const refuse = () =>
    new AppError(ErrorCode.BAD_USER_INPUT, `The parent of a ${level} must be an existing tenant you administer`, { details: { field: 'parentId' } });
  if (!parentId) throw refuse();
  const { rows } = await tenancy.central
    .query<{ id: string; parent_id: string | null }>('SELECT id, parent_id FROM tenants WHERE id = $1 AND deleted_at IS NULL', [parentId])
    .catch(() => ({ rows: [] as { id: string; parent_id: string | null }[] })); // a malformed uuid is simply not found
  const parent = rows[0];
  if (!parent || (parent.id !== adminOf && parent.parent_id !== adminOf)) throw refuse();
}
