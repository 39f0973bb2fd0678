import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { generateKeyEntry, makeKeyRing, parseKeyRingSpec } from '../../src/infra/crypto/key-ring.js';
import { loadKeyRing } from '../../src/infra/crypto/load-key-ring.js';
import { legacyOpener, sealLegacy } from '../../src/infra/crypto/legacy-secret-box.js';
import { randomBytes } from 'node:crypto';

const k1 = generateKeyEntry('k1');
const k2 = generateKeyEntry('k2');

describe('the key ring', () => {
  it('encrypts with the newest key and decrypts with any listed key', () => {
    const old = makeKeyRing([k1]);
    const stored = old.encrypt('pässword', 'ctx');
    expect(stored.keyId).toBe('k1');
    expect(stored.ciphertext).not.toContain('pässword');
    const rotated = makeKeyRing([k2, k1]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(stored, 'ctx')).toBe('pässword');
    expect(rotated.encrypt('x', 'ctx').keyId).toBe('k2');
  });

  it('uses a fresh iv each time', () => {
    const ring = makeKeyRing([k1]);
    expect(ring.encrypt('same', 'ctx').ciphertext).not.toBe(ring.encrypt('same', 'ctx').ciphertext);
  });

  it('refuses another context, an altered ciphertext and an unknown key id', () => {
    const ring = makeKeyRing([k1]);
    const stored = ring.encrypt('secret', 'db_servers:a:admin_password');
    expect(() => ring.decrypt(stored, 'db_servers:b:admin_password')).toThrow(/altered or belongs to another row/);
    const bytes = Buffer.from(stored.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => ring.decrypt({ ...stored, ciphertext: bytes.toString('base64') }, 'db_servers:a:admin_password')).toThrow(/altered/);
    expect(() => makeKeyRing([k2]).decrypt(stored, 'db_servers:a:admin_password')).toThrow(/no key "k1"/);
    expect(() => ring.decrypt({ ciphertext: 'AAAA', keyId: 'k1' }, 'x')).toThrow(/truncated/);
  });

  it('reads a secret with no key id through the legacy opener only, and encrypts new ones on the ring', () => {
    const legacyKey = randomBytes(32);
    const sealed = sealLegacy(legacyKey, 'JBSWY3DPEHPK3PXP');
    const ring = makeKeyRing([k1], { legacy: legacyOpener(legacyKey) });
    expect(ring.decrypt({ ciphertext: sealed, keyId: null }, 'accounts:x:totp_secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => makeKeyRing([k1]).decrypt({ ciphertext: sealed, keyId: null }, 'ctx')).toThrow(/no legacy key/);
    expect(() => makeKeyRing([k1], { legacy: legacyOpener(randomBytes(32)) }).decrypt({ ciphertext: sealed, keyId: null }, 'ctx')).toThrow(
      /does not decrypt with the legacy key/,
    );
    expect(ring.encrypt('new', 'ctx').keyId).toBe('k1');
  });

  it('parses kid:base64 lists and names bad entries without repeating a key', () => {
    expect(parseKeyRingSpec(`k2:${k2.key}, k1:${k1.key}`).map((entry) => entry.id)).toEqual(['k2', 'k1']);
    const short = Buffer.alloc(16, 1).toString('base64');
    for (const [spec, message] of [
      ['', /at least one/],
      [`nokey`, /not kid:base64key/],
      [`bad id!:${k1.key}`, /key id/],
      [`k1:${short}`, /32 bytes/],
      [`k1:${k1.key},k1:${k2.key}`, /listed twice/],
    ] as const) {
      let error: unknown;
      try {
        parseKeyRingSpec(spec);
      } catch (caught) {
        error = caught;
      }
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(k1.key);
      expect((error as Error).message).not.toContain(short);
    }
  });
});

describe('TENANCY_ENCRYPTION_KEYS', () => {
  const base = { JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://u@db/central' };

  it('is required in production', () => {
    expect(() => parseConfig({ ...base, NODE_ENV: 'production' })).toThrow(/TENANCY_ENCRYPTION_KEYS: required when NODE_ENV=production/);
    expect(parseConfig({ ...base, NODE_ENV: 'production', TENANCY_ENCRYPTION_KEYS: `k1:${k1.key}` }).encryptionKeys).toEqual([k1]);
  });

  it('is never repeated in a configuration error', () => {
    const short = Buffer.alloc(16, 9).toString('base64');
    let message = '';
    try {
      parseConfig({ TENANCY_ENCRYPTION_KEYS: `k1:${short}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('TENANCY_ENCRYPTION_KEYS');
    expect(message).not.toContain(short);
  });

  it('outside production, defaults to a development key made once in a file only the owner reads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tg-keys-'));
    try {
      const file = path.join(dir, 'dev-encryption-keys');
      const config = parseConfig({});
      const first = await loadKeyRing(config, { devKeyPath: file });
      const second = await loadKeyRing(config, { devKeyPath: file });
      expect(second.decrypt(first.encrypt('hello', 'c'), 'c')).toBe('hello');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await readFile(file, 'utf8')).startsWith(`${first.currentKeyId}:`)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
