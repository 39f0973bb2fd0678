/**
 * The audit log: one append-only row per administrative mutation, sign-in, failed sign-in,
 * impersonation step, token creation or revocation and credential operation. Rows are written
 * with the central pool; the table refuses UPDATE and DELETE itself (migration 0002).
 */
import type pg from 'pg';
import { type Principal } from '../tenancy/identification/identification-types.js';
import { UUID_PATTERN } from '../tenancy/model.js';

export type AuditActor = {
  /** Account id when the actor has one; other subjects (CLI tokens, `cli:<user>`) go to the label. */
  subject: string | null;
  impersonatorId: string | null;
};

export type AuditRequest = { requestId: string | null; ip: string | null; userAgent: string | null };

export type AuditEntry = {
  action: string;
  tenantId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** What changed; anything under a secret-looking key is masked before it is stored. */
  details?: Record<string, unknown>;
};

const SECRET_KEY = /pass(word)?|secret|token|code|hash|otp|recovery|authorization|cookie/i;
export const MASK = '[masked]';

/** Deep copy with every value under a secret-looking key replaced by MASK. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, SECRET_KEY.test(key) ? MASK : maskSecrets(inner)]));
  }
  return value;
}

export function actorOf(principal: Principal): AuditActor {
  if (principal.kind !== 'user') return { subject: null, impersonatorId: null };
  return { subject: principal.subject, impersonatorId: principal.impersonatorId };
}

export class AuditLog {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Appends one row. Subjects that are not accounts (a development token's `tenantgraph-cli`, an
   * operator's `cli:<user>`) are kept in `actor_label`; account ids become references only when
   * the account exists, so a row is never lost to a foreign key.
   */
  async record(actor: AuditActor, request: AuditRequest, entry: AuditEntry): Promise<void> {
    const subject = actor.subject;
    const accountId = subject && UUID_PATTERN.test(subject) ? subject : null;
    const impersonatorAccountId = actor.impersonatorId && UUID_PATTERN.test(actor.impersonatorId) ? actor.impersonatorId : null;
    const label = [subject && !accountId ? subject : null, actor.impersonatorId && !impersonatorAccountId ? `impersonated by ${actor.impersonatorId}` : null]
      .filter(Boolean)
      .join('; ');
    await this.pool.query(
      `INSERT INTO audit_logs (tenant_id, actor_account_id, impersonator_account_id, actor_label, action, target_type, target_id,
                               request_id, ip_address, user_agent, details)
       SELECT (SELECT id FROM tenants WHERE id = $1::uuid), (SELECT id FROM accounts WHERE id = $2::uuid),
              (SELECT id FROM accounts WHERE id = $3::uuid), $4, $5, $6, $7, $8, $9::inet, $10, $11::jsonb`,
      [
        entry.tenantId ?? null,
        accountId,
        impersonatorAccountId,
        label || null,
        entry.action,
        entry.targetType ?? null,
        entry.targetId ?? null,
        request.requestId,
        validIp(request.ip),
        request.userAgent?.slice(0, 500) ?? null,
        JSON.stringify(maskSecrets(entry.details ?? {})),
      ],
    );
  }
}

/** `::ffff:127.0.0.1` and plain addresses; anything else is not stored rather than failing the insert. */
function validIp(ip: string | null): string | null {
  if (!ip) return null;
  const bare = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^[0-9a-f:.]{2,45}$/i.test(bare) ? bare : null;
}
