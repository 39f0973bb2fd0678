/**
 * What tenant identification (DESIGN §2 step 2) reads and produces: tenant records as the central
 * `tenants` table holds them, the chain app → group → tenant a request runs in, and the principal
 * the bearer token names.
 */
import { type IdentifierName } from '../../config.js';
import { type Isolation, type TenantLevelName, type TenantStatus } from '../model.js';

/**
 * One row of central `tenants`, reduced to what identification and routing need. Credentials
 * (`db_password_ciphertext`, ...) are deliberately absent: records are cached in Redis.
 * Plain JSON (no Date objects) so a record survives the Redis round trip unchanged.
 */
export type TenantRecord = {
  id: string;
  level: TenantLevelName;
  /** null for an APP, the group for a TENANT, the app for a group. */
  parentId: string | null;
  key: string;
  slug: string;
  name: string;
  status: TenantStatus;
  isolation: Isolation;
  databaseName: string | null;
  schemaName: string | null;
  /** The `db_servers` row holding a TENANT's storage; null (or absent in old cache entries): the central server. */
  dbServerId?: string | null;
  /** The TENANT's own PostgreSQL role (its requests run as it); null for older tenants, apps and groups. Not a secret. */
  dbUsername?: string | null;
  maintenance: boolean;
  maintenanceMessage: string | null;
  /** IANA time zone (`tenants.timezone`, default UTC): a record's year is taken in it. */
  timezone: string;
  /** ISO 8601 timestamp of the soft delete, or null. */
  deletedAt: string | null;
};

/** The tenant a request runs in, with every ancestor. */
export type TenantChain =
  | { level: 'APP'; app: TenantRecord }
  | { level: 'CENTRAL_TENANT'; app: TenantRecord; group: TenantRecord }
  | { level: 'TENANT'; app: TenantRecord; group: TenantRecord; tenant: TenantRecord };

/** The role that makes a principal a system (landlord) administrator. */
export const SYSTEM_ADMIN_ROLE = 'system_admin';
/** The role that lets a principal act on its own tenant's descendants and pass maintenance mode. */
export const TENANT_ADMIN_ROLE = 'admin';

export type UserPrincipal = {
  kind: 'user';
  /** Account id (JWT `sub`). */
  subject: string;
  /** The tenant the token was issued for (JWT `tid`), null for a central token. */
  tenantId: string | null;
  roles: string[];
  abilities: string[];
  /** roles include `system_admin`. */
  isSystemAdmin: boolean;
  /** Who is impersonating `subject` (JWT `act.sub`), or null. */
  impersonatorId: string | null;
  /**
   * What the principal came from when it is not a plain access token: an API token (`tg_…`) or a
   * redeemed impersonation, with the id of its row. Some operations (impersonate, create tokens,
   * switch tenant) need a signed-in person and refuse these.
   */
  credential?: { kind: 'api_token' | 'impersonation'; id: string };
};

/**
 * Checks for credentials that live in the database (src/auth/credential-checks.ts). Optional, so
 * identification works without them (unit tests, tools); the server always passes them.
 */
export type CredentialChecks = {
  /** True when the bearer value is an API token rather than a JWT. */
  isApiToken(token: string): boolean;
  /** The principal of a live API token; UNAUTHENTICATED when unknown, revoked or expired. */
  apiToken(token: string): Promise<UserPrincipal>;
  /** A verified access token with an `act` claim: live only while its impersonation has not ended. */
  impersonation(token: string, principal: UserPrincipal): Promise<UserPrincipal>;
};

/** Work the system does on its own behalf: a job, a CLI command, a scheduled task. Never reaches GraphQL. */
export type SystemPrincipal = {
  kind: 'system';
  /** What is acting, for logs and the audit trail, e.g. `job:provision-tenant` or `cli:tenants:run`. */
  actor: string;
};

export type Principal = { kind: 'anonymous' } | UserPrincipal | SystemPrincipal;

export type IdentificationInput = {
  /** Host header, port stripped, lower-cased. */
  host: string;
  /** Authorization header as sent, or undefined when absent. */
  authorization: string | undefined;
  /** X-Tenant header (a slug or a tenant id), or undefined when absent. */
  tenantHeader: string | undefined;
};

export type IdentifiedScope = { level: 'CENTRAL' } | TenantChain;

/** What chose the tenant: the identifier whose answer won, or `none` for the central scope. */
export type IdentificationSource = IdentifierName | 'none';

export type Identification = { principal: Principal; scope: IdentifiedScope; source: IdentificationSource };

/** The record the chain is about (the tenant, the group or the app). */
export function chainTarget(chain: TenantChain): TenantRecord {
  switch (chain.level) {
    case 'APP':
      return chain.app;
    case 'CENTRAL_TENANT':
      return chain.group;
    case 'TENANT':
      return chain.tenant;
    default: {
      const unreachable: never = chain;
      throw new Error(`unknown chain level ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Every record of the chain, app first, the target last. */
export function chainRecords(chain: TenantChain): TenantRecord[] {
  switch (chain.level) {
    case 'APP':
      return [chain.app];
    case 'CENTRAL_TENANT':
      return [chain.app, chain.group];
    case 'TENANT':
      return [chain.app, chain.group, chain.tenant];
    default: {
      const unreachable: never = chain;
      throw new Error(`unknown chain level ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Ids of the strict ancestors of the chain's target (its group and app). */
export function ancestorIds(chain: TenantChain): string[] {
  return chainRecords(chain)
    .slice(0, -1)
    .map((record) => record.id);
}

/** Turns verified token claims into a principal. */
export function userPrincipal(claims: {
  subject: string;
  tenantId: string | null;
  roles: readonly string[];
  abilities: readonly string[];
  impersonatorId: string | null;
}): UserPrincipal {
  return {
    kind: 'user',
    subject: claims.subject,
    tenantId: claims.tenantId,
    roles: [...claims.roles],
    abilities: [...claims.abilities],
    isSystemAdmin: claims.roles.includes(SYSTEM_ADMIN_ROLE),
    impersonatorId: claims.impersonatorId,
  };
}


