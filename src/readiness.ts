import { type Pool } from 'pg';
import { type Readiness } from './tenancy/bootstrappers/index.js';
import { readMigrationStatus, type MigrationTarget } from './tenancy/migrator/index.js';

/** An optional dependency: when it is down the server still serves, so readiness says degraded, not not-ready. */
export type OptionalHealth = () => { status: 'ok' } | { status: 'degraded'; reason: string };

/**
 * Ready means: the central database answers and every central migration this code knows is
 * applied with its recorded checksum. Degraded means ready, with an optional dependency down.
 * Checked on each call (health checks are infrequent).
 */
export function makeReadinessCheck(pool: Pool, central: MigrationTarget, optional: OptionalHealth[] = []): () => Promise<Readiness> {
  return async () => {
    try {
      const status = await readMigrationStatus(pool, central);
      if (status.edited.length > 0) return { ready: false, reason: `edited migrations: ${status.edited.join(', ')}` };
      if (status.pending.length > 0) {
        return { ready: false, reason: `pending central migrations: ${status.pending.map((file) => file.name).join(', ')}` };
      }
      const degraded = optional.map((health) => health()).flatMap((health) => (health.status === 'degraded' ? [health.reason] : []));
      return degraded.length > 0 ? { ready: true, degraded: degraded.join('; ') } : { ready: true };
    } catch (error) {
      // Only the error code: this reason is public (`health { reason }`), and a driver's message
      // names hosts and ports.
      const code = (error as { code?: unknown } | null)?.code;
      return { ready: false, reason: typeof code === 'string' ? `central database unreachable (${code})` : 'central database unreachable' };
    }
  };
}
