/**
 * Accounts and memberships in the central database: lookups the sign-in flows share, and the
 * bootstrap of the first system admin.
 */
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { UUID_PATTERN } from '../tenancy/model.js';
import { ACCOUNT_COLUMNS, type AccountRow } from './auth-types.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.js';

export type MembershipRow = { id: string; account_id: string; tenant_id: string; role: string; abilities: string[]; created_at: Date; updated_at: Date };

/** What a token for a tenant grants an account. */
export type Grant = { tenantId: string | null; roles: string[]; abilities: string[] };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function assertEmail(email: string): string {
  const normalized = normalizeEmail(email);
  if (!EMAIL.test(normalized)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Expected an email address like name@example.com', { details: { field: 'email' } });
  return normalized;
}

export function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `A password needs at least ${MIN_PASSWORD_LENGTH} characters`, { details: { field: 'password' } });
  }
}

export async function findAccountByEmail(pool: pg.Pool, email: string): Promise<AccountRow | undefined> {
  return (await pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $1`, [normalizeEmail(email)])).rows[0];
}

export async function findAccountById(pool: pg.Pool, id: string): Promise<AccountRow | undefined> {
  if (!UUID_PATTERN.test(id)) return undefined;
  return (await pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id])).rows[0];
}

/** A live tenant (any level) by slug or id. */
export async function findTenantRef(pool: pg.Pool, ref: string): Promise<{ id: string; slug: string } | undefined> {
  const byId = UUID_PATTERN.test(ref);
  return (
    await pool.query<{ id: string; slug: string }>(
      `SELECT id, slug FROM tenants WHERE ${byId ? 'id = $1::uuid' : 'slug = $1'} AND deleted_at IS NULL AND status IN ('ACTIVE', 'SUSPENDED')`,
      [byId ? ref.toLowerCase() : ref],
    )
  ).rows[0];
}

/**
 * What a token for `tenantRef` grants: the membership's role and abilities (plus `system_admin`
 * for system admins, who may also take a token for any tenant or none). Without a tenant, a system
 * admin gets a central token and anyone else the token of their only membership.
 */
export async function grantFor(pool: pg.Pool, account: AccountRow, tenantRef: string | null): Promise<Grant> {
  const admin = account.is_system_admin ? ['system_admin'] : [];
  if (tenantRef === null) {
    if (account.is_system_admin) return { tenantId: null, roles: admin, abilities: [] };
    const memberships = (await pool.query<MembershipRow>('SELECT * FROM memberships WHERE account_id = $1 ORDER BY created_at LIMIT 2', [account.id])).rows;
    if (memberships.length !== 1) {
      throw new AppError(
        ErrorCode.BAD_USER_INPUT,
        memberships.length === 0 ? 'This account belongs to no tenant' : 'This account belongs to several tenants; name one with `tenant`',
        { details: { field: 'tenant' } },
      );
    }
    const only = memberships[0]!;
    return { tenantId: only.tenant_id, roles: [only.role], abilities: only.abilities };
  }
  const tenant = await findTenantRef(pool, tenantRef);
  const membership = tenant
    ? (await pool.query<MembershipRow>('SELECT * FROM memberships WHERE account_id = $1 AND tenant_id = $2', [account.id, tenant.id])).rows[0]
    : undefined;
  if (tenant && membership) return { tenantId: tenant.id, roles: [...admin, membership.role], abilities: membership.abilities };
  if (tenant && account.is_system_admin) return { tenantId: tenant.id, roles: admin, abilities: [] };
  throw new AppError(ErrorCode.FORBIDDEN, `This account is not a member of tenant ${JSON.stringify(tenantRef)} (role member or admin required)`);
}

/** `tenantgraph accounts:create`: an account with a password, optionally a system admin. */
export async function createAccount(
  pool: pg.Pool,
  input: { email: string; name?: string; password: string; systemAdmin: boolean },
): Promise<{ id: string; email: string; created: boolean }> {
  const email = assertEmail(input.email);
  assertPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  const result = await pool.query<{ id: string; inserted: boolean }>(
    `INSERT INTO accounts (email, name, password_hash, is_system_admin) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO NOTHING RETURNING id, true AS inserted`,
    [email, input.name ?? email, passwordHash, input.systemAdmin],
  );
  if (result.rows[0]) return { id: result.rows[0].id, email, created: true };
  throw new AppError(ErrorCode.CONFLICT, `An account with the email ${email} exists already`);
}
