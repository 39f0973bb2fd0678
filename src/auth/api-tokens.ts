/**
 * API tokens: `tg_<prefix>_<secret>`, shown once, stored as a SHA-256 hash, scoped to one tenant
 * and a list of abilities (never more than their creator holds).
 *
 * Revocation reaches every process within a second: a bearer lookup is cached in process for at
 * most API_TOKEN_CACHE_MS (0.5 s), and revoking evicts this process's entry at once. Deliberately
 * not the tenancy events: a lost pub/sub message (Redis restarting) would leave a revoked token
 * working for a whole longer TTL, while this bound holds with no channel at all, for one indexed
 * lookup per token per half second.
 * `last_used_at` is written at most once a minute per token, off the request's path.
 */
import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AppError, ErrorCode } from '../errors/index.js';
import { type Logger } from '../infra/logger.js';
import { TENANT_ADMIN_ROLE, type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { type AuditLog } from './audit.js';
import { actorOf } from './audit.js';
import { type ClientRequest, type Clock } from './auth-types.js';
import { assertAbilities, grants } from './catalogue.js';
import { randomSecret, sha256 } from './secrets.js';

// Half the promised second, so the promise holds with a request in flight and a polling client.
export const API_TOKEN_CACHE_MS = 500;
const LAST_USED_INTERVAL_MS = 60_000;
const TOKEN_PATTERN = /^tg_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export type ApiTokenRow = {
  id: string;
  tenant_id: string;
  account_id: string | null;
  name: string;
  token_prefix: string;
  abilities: string[];
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
};

export type ApiTokenDependencies = { pool: pg.Pool; audit: AuditLog; clock: Clock; logger: Logger };

export class ApiTokens {
  private readonly lookups = new LRUCache<string, { row: ApiTokenRow | null }>({ max: 10_000, ttl: API_TOKEN_CACHE_MS });
  private readonly touched = new LRUCache<string, number>({ max: 10_000 });

  constructor(private readonly deps: ApiTokenDependencies) {}

  isApiToken(token: string): boolean {
    return token.startsWith('tg_');
  }

  async create(
    principal: UserPrincipal,
    input: { name: string; abilities: string[]; expiresAt: Date | null },
    request: ClientRequest,
  ): Promise<{ token: string; row: ApiTokenRow }> {
    const tenantId = principal.tenantId;
    if (!tenantId) throw new AppError(ErrorCode.FORBIDDEN, 'API tokens belong to a tenant: use an access token for one (tenant member or admin role required)');
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw new AppError(ErrorCode.BAD_USER_INPUT, 'A token name needs 1 to 100 characters', { details: { field: 'name' } });
    const abilities = assertAbilities(input.abilities);
    if (abilities.length === 0) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Give the token at least one ability', { details: { field: 'abilities' } });
    const isAdmin = principal.isSystemAdmin || principal.roles.includes(TENANT_ADMIN_ROLE);
    const beyond = isAdmin ? undefined : abilities.find((ability) => !grants(principal.abilities, ability));
    if (beyond) throw new AppError(ErrorCode.FORBIDDEN, `A token cannot hold more than its creator: missing ability ${beyond}`);
    if (input.expiresAt && input.expiresAt <= this.deps.clock()) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'expiresAt must be in the future', { details: { field: 'expiresAt' } });
    }
    const prefix = randomBytes(4).toString('hex');
    const token = `tg_${prefix}_${randomSecret()}`;
    const row = (
      await this.deps.pool.query<ApiTokenRow>(
        `INSERT INTO api_tokens (tenant_id, account_id, name, token_prefix, token_hash, abilities, expires_at)
         VALUES ($1, (SELECT id FROM accounts WHERE id::text = $2), $3, $4, $5, $6::jsonb, $7) RETURNING *`,
        [tenantId, principal.subject, name, prefix, sha256(token), JSON.stringify(abilities), input.expiresAt],
      )
    ).rows[0]!;
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'api_token.created',
      tenantId,
      targetType: 'api_token',
      targetId: row.id,
      details: { name, prefix, abilities, expiresAt: input.expiresAt?.toISOString() ?? null },
    });
    return { token, row };
  }

  /** Tokens of the principal's tenant: all of them for admins, one's own otherwise. */
  async list(principal: UserPrincipal): Promise<ApiTokenRow[]> {
    if (!principal.tenantId) return [];
    const isAdmin = principal.isSystemAdmin || principal.roles.includes(TENANT_ADMIN_ROLE);
    return (
      await this.deps.pool.query<ApiTokenRow>(
        `SELECT * FROM api_tokens WHERE tenant_id = $1 AND ($2 OR account_id::text = $3) ORDER BY created_at DESC, id LIMIT 500`,
        [principal.tenantId, isAdmin, principal.subject],
      )
    ).rows;
  }

  async revoke(principal: UserPrincipal, id: string, request: ClientRequest): Promise<ApiTokenRow> {
    const visible = (await this.list(principal)).find((row) => row.id === id);
    if (!visible) throw new AppError(ErrorCode.NOT_FOUND, 'API token not found');
    const row =
      (await this.deps.pool.query<ApiTokenRow>('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *', [id, this.deps.clock()]))
        .rows[0] ?? visible;
    this.lookups.clear(); // this process stops accepting it now; others within API_TOKEN_CACHE_MS
    await this.deps.audit.record(actorOf(principal), request, {
      action: 'api_token.revoked',
      tenantId: row.tenant_id,
      targetType: 'api_token',
      targetId: row.id,
      details: { name: row.name, prefix: row.token_prefix },
    });
    return row;
  }

  /** The principal of a bearer API token. */
  async authenticate(token: string): Promise<UserPrincipal> {
    if (!TOKEN_PATTERN.test(token)) throw refused();
    const hash = sha256(token);
    let entry = this.lookups.get(hash);
    if (!entry) {
      const row = (await this.deps.pool.query<ApiTokenRow>('SELECT * FROM api_tokens WHERE token_hash = $1', [hash])).rows[0] ?? null;
      entry = { row };
      this.lookups.set(hash, entry);
    }
    const row = entry.row;
    const now = this.deps.clock();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) throw refused();
    this.touch(row.id, now);
    return {
      kind: 'user',
      subject: row.account_id ?? `api-token:${row.id}`,
      tenantId: row.tenant_id,
      roles: [],
      abilities: [...row.abilities],
      isSystemAdmin: false,
      impersonatorId: null,
      credential: { kind: 'api_token', id: row.id },
    };
  }

  private touch(id: string, now: Date): void {
    const last = this.touched.get(id);
    if (last !== undefined && now.getTime() - last < LAST_USED_INTERVAL_MS) return;
    this.touched.set(id, now.getTime());
    // The WHERE keeps other processes from writing more than once a minute too.
    this.deps.pool
      .query(`UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, [id, now])
      .catch((error: unknown) => this.deps.logger.warn({ err: error, apiTokenId: id }, 'could not record API token use'));
  }
}

function refused(): AppError {
  return new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid, revoked or expired API token');
}
