/**
 * The format TOTP secrets were stored in before they joined the key ring (`v1:<kid>:<iv>:<tag>:<data>`,
 * AES-256-GCM under ENCRYPTION_KEY, or the development key in `.data/dev-encryption-key`).
 * Nothing is written in it any more: the key ring reads it (a stored secret with no key id) until
 * `tenantgraph keys:rotate` has moved every such secret onto the ring's newest key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config } from '../../config.js';
import { projectRoot } from '../../paths.js';

const VERSION = 'v1';
const KEY_BYTES = 32;

/** Opens a legacy ciphertext; throws when it was altered or sealed under another key. */
export type LegacyOpener = (ciphertext: string) => string;

export function legacyOpener(key: Buffer): LegacyOpener {
  if (key.length !== KEY_BYTES) throw new Error('legacy secret box: the key must be 32 bytes');
  return (ciphertext) => {
    const [version, , iv, tag, data] = ciphertext.split(':');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('legacy secret box: not a v1 ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  };
}

/** Seals in the legacy format. Only tests use it: they need rows as older versions wrote them. */
export function sealLegacy(key: Buffer, plaintext: string, keyId = 'k1'): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
}

export const devLegacyKeyPath = () => path.join(projectRoot, '.data', 'dev-encryption-key');

/**
 * ENCRYPTION_KEY, or outside production the development key file if an older version made one.
 * Undefined when neither exists: then there is nothing legacy to read. Never creates a key.
 */
export async function loadLegacyOpener(config: Config, options: { devKeyPath?: string } = {}): Promise<LegacyOpener | undefined> {
  if (config.auth.encryptionKey) return legacyOpener(Buffer.from(config.auth.encryptionKey, 'base64'));
  if (config.isProduction) return undefined;
  try {
    const key = Buffer.from((await readFile(options.devKeyPath ?? devLegacyKeyPath(), 'utf8')).trim(), 'base64');
    return key.length === KEY_BYTES ? legacyOpener(key) : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}
