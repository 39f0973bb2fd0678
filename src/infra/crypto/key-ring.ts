/**
 * Secrets at rest (database passwords of tenants and servers): AES-256-GCM under a versioned key
 * ring. TENANCY_ENCRYPTION_KEYS lists `kid:base64key` entries, newest first; the newest encrypts,
 * any listed key decrypts. Each stored secret keeps the id of its key beside it, so rotation
 * (src/tenancy/secrets/rotate-secrets.ts) re-encrypts row by row and can stop and resume anywhere.
 *
 * Ciphertext: base64 of iv (12 bytes) ‖ tag (16 bytes) ‖ encrypted bytes. The caller passes a
 * context (e.g. `db_servers:<id>:admin_password`) bound in as additional data, so a ciphertext
 * copied to another row or column does not decrypt there.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * `keyId` null: a secret written before it joined the ring (src/infra/crypto/legacy-secret-box.ts),
 * readable while the ring has a legacy opener, and moved onto the ring by rotation.
 */
export type EncryptedSecret = { ciphertext: string; keyId: string | null };

export interface KeyRing {
  /** Id of the key new secrets are encrypted with (the first listed). */
  readonly currentKeyId: string;
  /** Every key id the ring can decrypt, newest first. */
  readonly keyIds: readonly string[];
  encrypt(plaintext: string, context: string): EncryptedSecret & { keyId: string };
  /** Throws when the key id is unknown or the ciphertext was altered or moved. */
  decrypt(secret: EncryptedSecret, context: string): string;
}

export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/** Entries as configuration holds them (strings: the config object is frozen JSON). */
export type KeyRingEntry = { id: string; key: string };

/**
 * Parses `kid:base64key,kid2:base64key` (newest first). Error messages name the entry by its id
 * or position, never by its key.
 */
export function parseKeyRingSpec(spec: string): KeyRingEntry[] {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const colon = part.indexOf(':');
      if (colon < 1) throw new KeyRingError(`entry ${index + 1} is not kid:base64key`);
      const id = part.slice(0, colon);
      const key = part.slice(colon + 1);
      if (!KEY_ID_PATTERN.test(id)) throw new KeyRingError(`entry ${index + 1}: the key id must be 1 to 32 letters, digits, _ or -`);
      if (decodeKey(key) === undefined) throw new KeyRingError(`key ${id}: expected ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
      return { id, key };
    });
  if (entries.length === 0) throw new KeyRingError('expected at least one kid:base64key entry');
  const ids = new Set<string>();
  for (const { id } of entries) {
    if (ids.has(id)) throw new KeyRingError(`key id ${id} is listed twice`);
    ids.add(id);
  }
  return entries;
}

function decodeKey(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

export type KeyRingOptions = {
  /** Reads secrets stored with no key id (the format before the ring); without it they do not decrypt. */
  legacy?: (ciphertext: string) => string;
};

export function makeKeyRing(entries: readonly KeyRingEntry[], options: KeyRingOptions = {}): KeyRing {
  if (entries.length === 0) throw new KeyRingError('a key ring needs at least one key');
  const keys = new Map<string, Buffer>();
  for (const entry of entries) {
    const key = decodeKey(entry.key);
    if (!key) throw new KeyRingError(`key ${entry.id}: expected ${KEY_BYTES} bytes in base64`);
    keys.set(entry.id, key);
  }
  const openLegacy = (ciphertext: string): string => {
    if (!options.legacy) throw new KeyRingError('a stored secret has no key id, and no legacy key (ENCRYPTION_KEY) is set to read it');
    try {
      return options.legacy(ciphertext);
    } catch {
      throw new KeyRingError('a stored secret with no key id does not decrypt with the legacy key (ENCRYPTION_KEY)');
    }
  };
  const currentKeyId = entries[0]!.id;
  const currentKey = keys.get(currentKeyId)!;
  return {
    currentKeyId,
    keyIds: entries.map((entry) => entry.id),
    encrypt(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), keyId: currentKeyId };
    },
    decrypt(secret, context) {
      if (secret.keyId === null || secret.keyId === '') return openLegacy(secret.ciphertext);
      const key = keys.get(secret.keyId);
      if (!key) throw new KeyRingError(`no key ${JSON.stringify(secret.keyId)} in TENANCY_ENCRYPTION_KEYS; add it back (after the newest) to read this secret`);
      const raw = Buffer.from(secret.ciphertext, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new KeyRingError('the stored secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new KeyRingError(`a stored secret does not decrypt with key ${secret.keyId}: it was altered or belongs to another row`);
      }
    },
  };
}

/** A new random key entry, e.g. for the development key file. */
export function generateKeyEntry(id: string): KeyRingEntry {
  return { id, key: randomBytes(KEY_BYTES).toString('base64') };
}
