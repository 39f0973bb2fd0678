/**
 * Where the key ring comes from: TENANCY_ENCRYPTION_KEYS, or outside production a development key
 * kept in `.data/dev-encryption-keys` (made on first use, like the development JWT secret), so the
 * server and the CLI decrypt the same secrets.
 */
import path from 'node:path';
import { type Config } from '../../config.js';
import { projectRoot } from '../../paths.js';
import { readOrCreateDevSecret } from '../../tenancy/identification/jwt-secret.js';
import { generateKeyEntry, makeKeyRing, parseKeyRingSpec, type KeyRing } from './key-ring.js';
import { loadLegacyOpener } from './legacy-secret-box.js';

export const devKeyRingPath = () => path.join(projectRoot, '.data', 'dev-encryption-keys');

export async function loadKeyRing(config: Config, options: { devKeyPath?: string; legacyDevKeyPath?: string } = {}): Promise<KeyRing> {
  // Secrets from before the ring (TOTP secrets under ENCRYPTION_KEY) stay readable until rotated.
  const legacy = await loadLegacyOpener(config, { devKeyPath: options.legacyDevKeyPath });
  if (config.encryptionKeys) return makeKeyRing(config.encryptionKeys, { legacy });
  // parseConfig refuses this already; kept so production never encrypts with a file key.
  if (config.isProduction) throw new Error('TENANCY_ENCRYPTION_KEYS is required when NODE_ENV=production');
  const spec = await readOrCreateDevSecret(options.devKeyPath ?? devKeyRingPath(), () => {
    const entry = generateKeyEntry('dev1');
    return `${entry.id}:${entry.key}`;
  });
  return makeKeyRing(parseKeyRingSpec(spec), { legacy });
}
