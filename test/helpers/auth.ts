/** Tenants, accounts and memberships for sign-in tests, written straight into the central tables. */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';

export const PASSWORD = 'correct horse battery staple';

type TreeName = 'app' | 'groupa' | 'groupb' | 'clinica' | 'clinica2' | 'clinicb';
export type TenantTree = { app: string; groupA: string; groupB: string; clinicA: string; clinicA2: string; clinicB: string; slugs: Record<TreeName, string> };

const suffix = () => `${inject('runId')}${randomBytes(3).toString('hex')}`;

/** app → groupA → (clinicA, clinicA2), app → groupB → clinicB; all ACTIVE, no storage. */
export async function makeTenantTree(pool: pg.Pool): Promise<TenantTree> {
  const s = suffix();
  const slugs = {} as Record<TreeName, string>;
  const insert = async (name: TreeName, level: string, parent: string | null) => {
    const key = `${name}_${s}`.slice(0, 40);
    slugs[name] = key.replace(/_/g, '-');
    const row = await pool.query<{ id: string }>(
      `INSERT INTO tenants (level, parent_id, key, slug, name, status) VALUES ($1, $2, $3, $4, $5, 'ACTIVE') RETURNING id`,
      [level, parent, key, slugs[name], name],
    );
    return row.rows[0]!.id;
  };
  const app = await insert('app', 'APP', null);
  const groupA = await insert('groupa', 'CENTRAL_TENANT', app);
  const groupB = await insert('groupb', 'CENTRAL_TENANT', app);
  const clinicA = await insert('clinica', 'TENANT', groupA);
  const clinicA2 = await insert('clinica2', 'TENANT', groupA);
  const clinicB = await insert('clinicb', 'TENANT', groupB);
  return { app, groupA, groupB, clinicA, clinicA2, clinicB, slugs };
}

let cachedHash: Promise<string> | undefined;

/** An account with PASSWORD (hashed once per file) and the given memberships. */
export async function makeAccount(
  pool: pg.Pool,
  options: { systemAdmin?: boolean; memberships?: { tenantId: string; role: 'admin' | 'member'; abilities?: string[] }[]; email?: string } = {},
): Promise<{ id: string; email: string }> {
  cachedHash ??= hashPassword(PASSWORD);
  const email = options.email ?? `user-${suffix()}@example.test`;
  const row = await pool.query<{ id: string }>(
    'INSERT INTO accounts (email, name, password_hash, is_system_admin) VALUES ($1, $1, $2, $3) RETURNING id',
    [email, await cachedHash, options.systemAdmin === true],
  );
  const id = row.rows[0]!.id;
  for (const membership of options.memberships ?? []) {
    await pool.query('INSERT INTO memberships (account_id, tenant_id, role, abilities) VALUES ($1, $2, $3, $4::jsonb)', [
      id,
      membership.tenantId,
      membership.role,
      JSON.stringify(membership.abilities ?? []),
    ]);
  }
  return { id, email };
}

export const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!, $tenant: String) {
    login(email: $email, password: $password, tenant: $tenant) { accessToken expiresAt refreshToken }
  }
`;

export const ME = /* GraphQL */ `{ me { authenticated subject tenantId roles abilities isSystemAdmin impersonatorId } }`;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Test apps never lock 127.0.0.1 by accident (tests share it); the per-IP lock has a unit test. */
export const AUTH_TEST_OPTIONS = { maxFailuresPerIp: 1_000_000 } as const;
