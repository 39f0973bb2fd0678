import { type Pool } from 'pg';
import { type Readiness } from './tenancy/bootstrappers/index.js';
import { readMigrationStatus, type MigrationTarget } from './tenancy/migrator/index.js';

/**
 * Ready means: the central database answers and every central migration this code knows is
 * applied with its recorded checksum. Checked on each call (health checks are infrequent).
 */
export function makeReadinessCheck(pool: Pool, central: MigrationTarget): () => Promise<Readiness> {
  return async () => {
    try {
      const status = await readMigrationStatus(pool, central);
      if (status.edited.length > 0) return { ready: false, reason: `edited migrations: ${status.edited.join(', ')}` };
      if (status.pending.length > 0) {
        return { ready: false, reason: `pending central migrations: ${status.pending.map((file) => file.name).join(', ')}` };
      }
      return { ready: true };
    } catch (error) {
      return { ready: false, reason: `central database unreachable: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}
