/**
 * Key rotation over real rows: every stored secret moves to the newest key, in batches, and an
 * interrupted rotation continues where it stopped when run again. Through the mutation, the CLI
 * (with its logs at trace level: no secret in them) and the function itself.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyEntry, makeKeyRing, parseKeyRingSpec } from '../../src/infra/crypto/key-ring.js';
import { rotateStoredSecrets } from '../../src/tenancy/secrets/rotate-secrets.js';
import { legacyOpener, sealLegacy } from '../../src/infra/crypto/legacy-secret-box.js';
import { randomBytes } from 'node:crypto';
import { adminPasswordContext, totpSecretContext } from '../../src/tenancy/secrets/stored-secrets.js';
import { ownCentralDatabase, startTestApp, TEST_ENCRYPTION_KEYS, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';

let app: TestApp;
let centralUrl: string;
let pool: pg.Pool;
const oldRing = makeKeyRing(parseKeyRingSpec(TEST_ENCRYPTION_KEYS));
const k2 = generateKeyEntry('t2');
const k3 = generateKeyEntry('t3');
const ringSpec = (...entries: { id: string; key: string }[]) => [...entries.map((e) => `${e.id}:${e.key}`), TEST_ENCRYPTION_KEYS].join(',');
const passwords = new Map<string, string>();

beforeAll(async () => {
  // Own central database: rotation touches every row, and other files store secrets too.
  centralUrl = await ownCentralDatabase('keys');
  app = await startTestApp({ DATABASE_URL: centralUrl });
  pool = new pg.Pool({ connectionString: centralUrl, max: 2 });
  // Twelve servers' passwords under the old key (inactive: nothing connects to them).
  for (let i = 0; i < 12; i++) {
    const id = randomUUID();
    const password = `stored-pw-${i}-${randomUUID()}`;
    passwords.set(id, password);
    const secret = oldRing.encrypt(password, adminPasswordContext(id));
    await pool.query(
      `INSERT INTO db_servers (id, name, host, port, admin_username, admin_password_ciphertext, admin_password_key_id, is_active)
       VALUES ($1, $2, 'rotation.invalid', $3, 'admin', $4, $5, false)`,
      [id, `rot-${i}`, 1000 + i, secret.ciphertext, secret.keyId],
    );
  }
});
afterAll(async () => {
  await pool?.end();
  await app?.stop();
});

async function keyIds(): Promise<Record<string, number>> {
  const rows = await pool.query<{ kid: string; n: number }>('SELECT admin_password_key_id AS kid, count(*)::int AS n FROM db_servers WHERE admin_password_ciphertext IS NOT NULL GROUP BY 1');
  return Object.fromEntries(rows.rows.map((row) => [row.kid, row.n]));
}

async function assertAllDecrypt(ring: ReturnType<typeof makeKeyRing>): Promise<void> {
  const rows = await pool.query<{ id: string; c: string; k: string }>('SELECT id, admin_password_ciphertext AS c, admin_password_key_id AS k FROM db_servers WHERE admin_password_ciphertext IS NOT NULL');
  for (const row of rows.rows) expect(ring.decrypt({ ciphertext: row.c, keyId: row.k }, adminPasswordContext(row.id))).toBe(passwords.get(row.id));
}

describe('rotating the encryption keys', () => {
  it('survives an interruption: the rerun finishes the rows still on an older key', async () => {
    const ring = makeKeyRing(parseKeyRingSpec(ringSpec(k2)));
    let batches = 0;
    await expect(
      rotateStoredSecrets(pool, ring, {
        batchSize: 5,
        onBatch: () => {
          if (++batches === 1) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(await keyIds()).toEqual({ t1: 7, t2: 5 });
    const report = await rotateStoredSecrets(pool, ring, { batchSize: 5 });
    expect(report).toMatchObject({ keyId: 't2', rotated: 7, current: 12, failures: [] });
    expect(await keyIds()).toEqual({ t2: 12 });
    // The newest key alone reads them all now.
    await assertAllDecrypt(makeKeyRing([k2]));
  });

  it('reports rows whose key is gone instead of failing the run', async () => {
    const orphan = randomUUID();
    const lost = makeKeyRing([generateKeyEntry('gone')]).encrypt('whatever', adminPasswordContext(orphan));
    await pool.query(
      `INSERT INTO db_servers (id, name, host, port, admin_username, admin_password_ciphertext, admin_password_key_id, is_active)
       VALUES ($1, 'rot-orphan', 'rotation.invalid', 999, 'admin', $2, $3, false)`,
      [orphan, lost.ciphertext, lost.keyId],
    );
    const report = await rotateStoredSecrets(pool, makeKeyRing(parseKeyRingSpec(ringSpec(k2))), { batchSize: 5 });
    expect(report.rotated).toBe(0);
    expect(report.failures).toEqual([{ secret: 'database server admin password', rowId: orphan, reason: expect.stringMatching(/no key "gone"/) }]);
    await pool.query('DELETE FROM db_servers WHERE id = $1', [orphan]);
  });

  it('keys:rotate re-encrypts in batches, with no secret in its output at LOG_LEVEL=trace', async () => {
    const spec = ringSpec(k3, k2);
    const result = await runCli(['keys:rotate', '--batch-size', '4', '--json'], { DATABASE_URL: centralUrl, TENANCY_ENCRYPTION_KEYS: spec, LOG_LEVEL: 'trace' });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, keyId: 't3', rotated: 12, current: 12, failures: [] });
    const output = result.stdout + result.stderr;
    for (const password of passwords.values()) expect(output).not.toContain(password);
    for (const key of [k2.key, k3.key]) expect(output).not.toContain(key);
    await assertAllDecrypt(makeKeyRing([k3]));
    expect((await runCli(['keys:rotate', '--batch-size', '0'], { DATABASE_URL: centralUrl })).code).toBe(2);
  });

  it("rotateEncryptionKeys is for system admins, and reports (never loses or shows) secrets its ring cannot read", async () => {
    const tenantAdmin = { authorization: `Bearer ${await app.token({ subject: 'a', tenantId: null, roles: ['admin'] })}` };
    const refused = await app.gql('mutation { rotateEncryptionKeys { keyId } }', {}, tenantAdmin);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The app's ring has only t1: rows on t3 do not decrypt there, and are reported, not lost.
    const system = { authorization: `Bearer ${await app.token({ subject: 'root', tenantId: null, roles: ['system_admin'] })}` };
    const result = await app.gql<{ rotateEncryptionKeys: { keyId: string; rotated: number; failures: { kind: string; rowId: string }[] } }>(
      'mutation { rotateEncryptionKeys { keyId rotated current failures { kind rowId reason } } }',
      {},
      system,
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data!.rotateEncryptionKeys.keyId).toBe('t1');
    expect(result.body.data!.rotateEncryptionKeys.rotated).toBe(0);
    expect(result.body.data!.rotateEncryptionKeys.failures).toHaveLength(12);
    expect(JSON.stringify(result.body)).not.toMatch(/stored-pw-/);
  });

  it('moves two-factor secrets onto the newest key too, including ones stored before the ring (ENCRYPTION_KEY)', async () => {
    const legacyKey = randomBytes(32);
    const onRing = randomUUID();
    const beforeRing = randomUUID();
    const sealed = oldRing.encrypt('ONRINGSECRETAAAA', totpSecretContext(onRing));
    await pool.query(
      `INSERT INTO accounts (id, email, name, two_factor_secret_ciphertext, two_factor_secret_key_id)
       VALUES ($1, $2, 'On ring', $3, $4), ($5, $6, 'Before ring', $7, NULL)`,
      [onRing, `on-ring-${onRing}@rotation.test`, sealed.ciphertext, sealed.keyId, beforeRing, `before-${beforeRing}@rotation.test`, sealLegacy(legacyKey, 'LEGACYSECRETBBBB')],
    );
    // Without the legacy key the old secret is reported, not lost.
    const withoutLegacy = await rotateStoredSecrets(pool, makeKeyRing(parseKeyRingSpec(ringSpec(k3, k2))), { batchSize: 5 });
    expect(withoutLegacy.failures).toEqual([{ secret: 'two-factor (TOTP) secret', rowId: beforeRing, reason: expect.stringMatching(/no legacy key/) }]);
    const report = await rotateStoredSecrets(pool, makeKeyRing(parseKeyRingSpec(ringSpec(k3, k2)), { legacy: legacyOpener(legacyKey) }), { batchSize: 5 });
    expect(report.failures).toEqual([]);
    expect(report.rotated).toBe(1);
    const rows = await pool.query<{ id: string; c: string; k: string }>(
      'SELECT id, two_factor_secret_ciphertext AS c, two_factor_secret_key_id AS k FROM accounts WHERE id = ANY($1::uuid[])',
      [[onRing, beforeRing]],
    );
    const newest = makeKeyRing([k3]);
    const plain = Object.fromEntries(rows.rows.map((row) => [row.id, newest.decrypt({ ciphertext: row.c, keyId: row.k }, totpSecretContext(row.id))]));
    expect(plain).toEqual({ [onRing]: 'ONRINGSECRETAAAA', [beforeRing]: 'LEGACYSECRETBBBB' });
    expect(rows.rows.every((row) => row.k === 't3')).toBe(true);
    await pool.query('DELETE FROM accounts WHERE id = ANY($1::uuid[])', [[onRing, beforeRing]]);
  });
});
