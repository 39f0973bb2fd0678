/**
 * Secrets at rest (TOTP secrets now; tenant database passwords later): AES-256-GCM under a key
 * from ENCRYPTION_KEY, or outside production a development key kept in `.data/dev-encryption-key`
 * (as the development JWT secret is). A ciphertext names its key id (`v1:<kid>:<iv>:<tag>:<data>`)
 * so a key ring can grow from this without re-encrypting everything at once.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config } from '../../config.js';
import { projectRoot } from '../../paths.js';

export type SecretBox = {
  readonly keyId: string;
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
};

const VERSION = 'v1';

export function makeSecretBox(key: Buffer, keyId = 'k1'): SecretBox {
  if (key.length !== 32) throw new Error('makeSecretBox: the key must be 32 bytes');
  return {
    keyId,
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
    },
    decrypt(ciphertext) {
      const [version, kid, iv, tag, data] = ciphertext.split(':');
      if (version !== VERSION || kid !== keyId || !iv || !tag || data === undefined) throw new Error(`secret box: cannot open a ciphertext of key ${kid ?? '?'}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

export const devEncryptionKeyPath = () => path.join(projectRoot, '.data', 'dev-encryption-key');

/** ENCRYPTION_KEY, or outside production the development key (created on first use). */
export async function loadSecretBox(config: Config, options: { devKeyPath?: string } = {}): Promise<SecretBox> {
  if (config.auth.encryptionKey) return makeSecretBox(Buffer.from(config.auth.encryptionKey, 'base64'));
  if (config.isProduction) throw new Error('ENCRYPTION_KEY is required when NODE_ENV=production (32 bytes in base64, e.g. `openssl rand -base64 32`)');
  return makeSecretBox(await readOrCreateDevKey(options.devKeyPath ?? devEncryptionKeyPath()), 'dev');
}

async function readOrCreateDevKey(file: string): Promise<Buffer> {
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length === 32) return key;
    throw new Error(`${file} does not hold a 32-byte base64 key; delete it to have a new one made`);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return key;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the other writer's bytes
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  }
}
