/**
 * Re-encrypts every stored secret under the key ring's newest key, in batches of rows, each batch
 * its own transaction. Every row records the id of the key that encrypted it, so the work can stop
 * anywhere (a crash, a deploy) and a rerun continues with the rows still on an older key.
 * Rows that do not decrypt (their key was removed from the ring, or the ciphertext was altered)
 * are reported and left as they are.
 */
import type pg from 'pg';
import { type KeyRing } from '../../infra/crypto/key-ring.js';
import { inTransaction } from '../../infra/db-transaction.js';
import { STORED_SECRETS, type StoredSecret } from './stored-secrets.js';

export type RotationFailure = { secret: string; rowId: string; reason: string };

export type RotationReport = {
  /** The key every rotated secret is encrypted with now. */
  keyId: string;
  rotated: number;
  /** Secrets on the newest key after the run (including the rotated ones). */
  current: number;
  failures: RotationFailure[];
};

export type RotationOptions = {
  /** Rows per transaction. Default 100. */
  batchSize?: number;
  /** Called after each committed batch (progress; tests interrupt here). */
  onBatch?: (progress: { secret: string; rotated: number }) => void | Promise<void>;
};

export async function rotateStoredSecrets(pool: pg.Pool, keyRing: KeyRing, options: RotationOptions = {}): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 100;
  const report: RotationReport = { keyId: keyRing.currentKeyId, rotated: 0, current: 0, failures: [] };
  for (const secret of STORED_SECRETS) {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await rotateBatch(pool, keyRing, secret, after, batchSize, report);
      if (batch.lastId === undefined) break;
      after = batch.lastId;
      await options.onBatch?.({ secret: secret.name, rotated: report.rotated });
    }
    const current = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${secret.table} WHERE ${secret.ciphertextColumn} IS NOT NULL AND ${secret.keyIdColumn} = $1`,
      [keyRing.currentKeyId],
    );
    report.current += current.rows[0]!.n;
  }
  return report;
}

async function rotateBatch(
  pool: pg.Pool,
  keyRing: KeyRing,
  secret: StoredSecret,
  after: string,
  batchSize: number,
  report: RotationReport,
): Promise<{ lastId: string | undefined }> {
  const { table, ciphertextColumn: ct, keyIdColumn: kid } = secret;
  return inTransaction(pool, async (client) => {
    // SKIP LOCKED: two rotations running at once share the rows instead of waiting on each other.
    const rows = await client.query<{ id: string; ciphertext: string; key_id: string | null }>(
      `SELECT id, ${ct} AS ciphertext, ${kid} AS key_id FROM ${table}
       WHERE ${ct} IS NOT NULL AND ${kid} IS DISTINCT FROM $1 AND id > $2
       ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [keyRing.currentKeyId, after, batchSize],
    );
    for (const row of rows.rows) {
      try {
        const plaintext = keyRing.decrypt({ ciphertext: row.ciphertext, keyId: row.key_id }, secret.context(row.id));
        const next = keyRing.encrypt(plaintext, secret.context(row.id));
        await client.query(`UPDATE ${table} SET ${ct} = $2, ${kid} = $3 WHERE id = $1`, [row.id, next.ciphertext, next.keyId]);
        report.rotated++;
      } catch (error) {
        report.failures.push({ secret: secret.name, rowId: row.id, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { lastId: rows.rows.at(-1)?.id };
  });
}
