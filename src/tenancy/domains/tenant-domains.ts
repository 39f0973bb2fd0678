/**
 * A tenant's custom domains: add, verify, make primary, remove. Who may: system admins, and admins
 * of an ancestor of the tenant (others get NOT_FOUND, as if it did not exist). A system admin's
 * verifyDomain marks the domain verified; anyone else's enqueues a check (`domain.verify`) that
 * fetches `http://<domain>/.well-known/tenantgraph-verification/<token>` and compares the body
 * with the row's token. Every change publishes TenantUpdated once committed, so every process
 * forgets the tenant's cached lookups (and unknown ones) and routing follows within a second.
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { type JobQueue } from '../../infra/jobs/index.js';
import { type LifecycleActor } from '../lifecycle/tenant-lifecycle.js';
import { UUID_PATTERN } from '../model.js';
import { type Tenancy } from '../tenancy.js';
import { type DomainProbe } from './domain-probe.js';
import { validHostName } from './host-name.js';
import { inTransaction } from '../../infra/db-transaction.js';

export const DOMAIN_VERIFY_JOB = 'domain.verify';
export const VERIFICATION_PATH_PREFIX = '/.well-known/tenantgraph-verification/';
/** Tokens are 64 hex characters (migrations/central/0008); anything else cannot match a row. */
const TOKEN_PATTERN = /^[a-f0-9]{16,128}$/;

export type TenantDomainRecord = {
  id: string;
  tenantId: string;
  domain: string;
  isPrimary: boolean;
  isVerified: boolean;
  verifiedAt: Date | null;
  /** Not a secret (anyone can read it from the domain once served); shown only to who may administer the tenant. */
  verificationToken: string;
};

/** What verifyDomain did: verified now (system admin), or a check was queued. */
export type DomainVerification = { domain: TenantDomainRecord; checkQueued: boolean };

export type TenantDomains = ReturnType<typeof makeTenantDomains>;

const COLUMNS = 'd.id, d.tenant_id AS "tenantId", d.domain, d.is_primary AS "isPrimary", d.is_verified AS "isVerified", d.verified_at AS "verifiedAt", d.verification_token AS "verificationToken"';
const notFound = (what: 'Tenant' | 'Domain') => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
const isUniqueViolation = (error: unknown, constraint: string) =>
  (error as { code?: string; constraint?: string }).code === '23505' && (error as { constraint?: string }).constraint === constraint;

export function makeTenantDomains(deps: { tenancy: Tenancy; jobs: () => Pick<JobQueue<unknown>, 'enqueueCentral'>; probe: DomainProbe }) {
  const { tenancy } = deps;
  const pool = tenancy.central;
  const mayAct = (actor: LifecycleActor, row: { parentId: string | null; grandparentId: string | null }) =>
    actor.kind === 'system' || actor.tenantId === row.parentId || actor.tenantId === row.grandparentId;

  async function loadTenant(actor: LifecycleActor, tenantId: string): Promise<{ id: string; status: string }> {
    if (!UUID_PATTERN.test(tenantId)) throw notFound('Tenant');
    const { rows } = await pool.query<{ id: string; status: string; parentId: string | null; grandparentId: string | null }>(
      'SELECT t.id, t.status, t.parent_id AS "parentId", p.parent_id AS "grandparentId" FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id WHERE t.id = $1',
      [tenantId.toLowerCase()],
    );
    const row = rows[0];
    if (!row || !mayAct(actor, row)) throw notFound('Tenant');
    return row;
  }

  async function loadDomain(actor: LifecycleActor, domainId: string): Promise<TenantDomainRecord> {
    if (!UUID_PATTERN.test(domainId)) throw notFound('Domain');
    const { rows } = await pool.query<TenantDomainRecord & { parentId: string | null; grandparentId: string | null }>(
      `SELECT ${COLUMNS}, t.parent_id AS "parentId", p.parent_id AS "grandparentId"
         FROM domains d JOIN tenants t ON t.id = d.tenant_id LEFT JOIN tenants p ON p.id = t.parent_id WHERE d.id = $1`,
      [domainId.toLowerCase()],
    );
    const row = rows[0];
    if (!row || !mayAct(actor, row)) throw notFound('Domain');
    const { parentId: _parent, grandparentId: _grandparent, ...domain } = row;
    return domain;
  }

  async function reload(domainId: string): Promise<TenantDomainRecord> {
    return loadDomain({ kind: 'system' }, domainId);
  }

  const changed = (tenantId: string) => tenancy.events.publish({ type: 'TenantUpdated', tenantId });

  return {
    async add(actor: LifecycleActor, tenantId: string, domain: string): Promise<TenantDomainRecord> {
      const host = domain.trim().toLowerCase();
      if (!validHostName(host)) throw new AppError(ErrorCode.BAD_USER_INPUT, `"${domain.slice(0, 100)}" is not a host name`, { details: { field: 'domain' } });
      const central = tenancy.config.tenancy.centralDomain;
      if (host === central || host.endsWith(`.${central}`)) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `Subdomains of ${central} reach tenants by slug already`, { details: { field: 'domain' } });
      }
      const tenant = await loadTenant(actor, tenantId);
      if (tenant.status === 'DELETED' || tenant.status === 'DELETING') throw new AppError(ErrorCode.CONFLICT, `The tenant is ${tenant.status}`, { details: { field: 'status' } });
      try {
        // The tenant's first domain becomes its primary one.
        const { rows } = await pool.query<{ id: string }>(
          `INSERT INTO domains (tenant_id, domain, is_primary)
           VALUES ($1, $2, NOT EXISTS (SELECT 1 FROM domains WHERE tenant_id = $1 AND is_primary)) RETURNING id`,
          [tenant.id, host],
        );
        await changed(tenant.id);
        return reload(rows[0]!.id);
      } catch (error) {
        // Another tenant's (or this one's) domain, or a soft-deleted tenant's released one re-taken: one owner only.
        if (isUniqueViolation(error, 'domains_domain_key')) throw new AppError(ErrorCode.CONFLICT, `${host} is already taken`, { details: { field: 'domain' } });
        if (isUniqueViolation(error, 'domains_one_primary')) throw new AppError(ErrorCode.CONFLICT, 'The tenant changed meanwhile; try again', { details: { field: 'domain' } });
        throw error;
      }
    },

    async verify(actor: LifecycleActor, domainId: string): Promise<DomainVerification> {
      const domain = await loadDomain(actor, domainId);
      if (domain.isVerified) return { domain, checkQueued: false };
      if (actor.kind === 'system') {
        await pool.query('UPDATE domains SET is_verified = true, verified_at = now(), verification_error = NULL, updated_at = now() WHERE id = $1', [domain.id]);
        await changed(domain.tenantId);
        tenancy.logger.info({ tenantId: domain.tenantId, domain: domain.domain }, 'domain verified by a system admin');
        return { domain: await reload(domain.id), checkQueued: false };
      }
      await deps.jobs().enqueueCentral(DOMAIN_VERIFY_JOB, { domainId: domain.id });
      return { domain, checkQueued: true };
    },

    async setPrimary(actor: LifecycleActor, domainId: string): Promise<TenantDomainRecord> {
      const domain = await loadDomain(actor, domainId);
      if (domain.isPrimary) return domain;
      try {
        await inTransaction(pool, async (client) => {
          await client.query('UPDATE domains SET is_primary = false, updated_at = now() WHERE tenant_id = $1 AND is_primary', [domain.tenantId]);
          const updated = await client.query('UPDATE domains SET is_primary = true, updated_at = now() WHERE id = $1', [domain.id]);
          if (updated.rowCount !== 1) throw notFound('Domain');
        });
      } catch (error) {
        if (isUniqueViolation(error, 'domains_one_primary')) throw new AppError(ErrorCode.CONFLICT, 'The tenant changed meanwhile; try again', { details: { field: 'domainId' } });
        throw error;
      }
      await changed(domain.tenantId);
      return reload(domain.id);
    },

    /** Removes the domain; when it was primary, the oldest remaining one (verified first) takes over. */
    async remove(actor: LifecycleActor, domainId: string): Promise<TenantDomainRecord> {
      const domain = await loadDomain(actor, domainId);
      await inTransaction(pool, async (client) => {
        await client.query('DELETE FROM domains WHERE id = $1', [domain.id]);
        if (domain.isPrimary) {
          await client.query(
            `UPDATE domains SET is_primary = true, updated_at = now()
              WHERE id = (SELECT id FROM domains WHERE tenant_id = $1 ORDER BY is_verified DESC, created_at, domain LIMIT 1)`,
            [domain.tenantId],
          );
        }
      });
      await changed(domain.tenantId);
      return { ...domain, isPrimary: false };
    },

    /**
     * The check job's work: fetch the token from the domain and mark it verified when it matches.
     * A mismatch or an unreachable host is recorded (verification_error), not thrown: the tenant
     * fixes its DNS or server and asks again.
     */
    async runCheck(domainId: string): Promise<boolean> {
      const { rows } = await pool.query<{ tenantId: string; domain: string; token: string; isVerified: boolean }>(
        'SELECT tenant_id AS "tenantId", domain, verification_token AS token, is_verified AS "isVerified" FROM domains WHERE id = $1',
        [domainId],
      );
      const row = rows[0];
      if (!row) return false;
      if (row.isVerified) return true;
      let problem: string | null = null;
      try {
        const body = await deps.probe(row.domain, `${VERIFICATION_PATH_PREFIX}${row.token}`);
        if (body === undefined) problem = 'the verification URL did not answer 200';
        else if (body.trim() !== row.token) problem = 'the verification URL answered something other than the token';
      } catch (error) {
        problem = `could not fetch the verification URL: ${(error as Error).message}`.slice(0, 500);
      }
      // Only if the row still holds the token we checked (the domain may have been removed and re-added).
      const updated = await pool.query(
        problem === null
          ? 'UPDATE domains SET is_verified = true, verified_at = now(), verification_checked_at = now(), verification_error = NULL, updated_at = now() WHERE id = $1 AND verification_token = $2'
          : 'UPDATE domains SET verification_checked_at = now(), verification_error = $3 WHERE id = $1 AND verification_token = $2',
        problem === null ? [domainId, row.token] : [domainId, row.token, problem],
      );
      if (problem === null && updated.rowCount === 1) {
        await changed(row.tenantId);
        tenancy.logger.info({ tenantId: row.tenantId, domain: row.domain }, 'domain verified');
        return true;
      }
      tenancy.logger.info({ tenantId: row.tenantId, domain: row.domain, problem }, 'domain verification failed');
      return false;
    },

    /**
     * GET /.well-known/tenantgraph-verification/<token> on `host`: true only when that host's own
     * domain row holds the token, so a domain pointing at us verifies and no host answers another's.
     */
    async servesToken(host: string, token: string): Promise<boolean> {
      if (!TOKEN_PATTERN.test(token) || !validHostName(host)) return false;
      const { rows } = await pool.query('SELECT 1 FROM domains WHERE domain = $1 AND verification_token = $2', [host, token]);
      return rows.length > 0;
    },
  };
}
