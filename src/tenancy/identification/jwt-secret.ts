/**
 * Where the access-token secret comes from: JWT_SECRET, or outside production a development
 * secret kept in `.data/dev-jwt-secret` so the CLI (`tenantgraph token`) and the server agree.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config } from '../../config.js';
import { projectRoot } from '../../paths.js';
import { makeAccessTokenKeyRing, type AccessTokenKeys } from './access-tokens.js';

/** Default location of the development secret. */
export const devJwtSecretPath = () => path.join(projectRoot, '.data', 'dev-jwt-secret');

/**
 * Builds the access-token keys from configuration.
 * @param options.devSecretPath where the development secret lives; default `.data/dev-jwt-secret`
 */
export async function loadAccessTokenKeys(config: Config, options: { devSecretPath?: string } = {}): Promise<AccessTokenKeys> {
  // JWT_KEYS (newest first) signs with its first key; JWT_SECRET, when also set, keeps verifying
  // under JWT_KEY_ID so tokens issued before the ring was introduced stay valid until they expire.
  if (config.jwt.keys) {
    const ring = [...config.jwt.keys];
    if (config.jwt.secret && !ring.some((key) => key.kid === config.jwt.keyId)) ring.push({ kid: config.jwt.keyId, secret: config.jwt.secret });
    return makeAccessTokenKeyRing(ring, config.jwt);
  }
  return makeAccessTokenKeyRing([{ kid: config.jwt.keyId, secret: await resolveJwtSecret(config, options) }], config.jwt);
}

export async function resolveJwtSecret(config: Config, options: { devSecretPath?: string } = {}): Promise<string> {
  if (config.jwt.secret) return config.jwt.secret;
  // parseConfig refuses this already; kept so no code path ever signs production tokens with a file secret.
  if (config.isProduction) throw new Error('JWT_SECRET is required when NODE_ENV=production');
  return readOrCreateDevSecret(options.devSecretPath ?? devJwtSecretPath());
}

/**
 * Reads a development secret from `file`, or makes one with `make` and keeps it there (mode 0600).
 * Also used for the development encryption key (src/infra/crypto/load-key-ring.ts).
 */
export async function readOrCreateDevSecret(file: string, make: () => string = () => randomBytes(48).toString('base64')): Promise<string> {
  const existing = await readSecret(file);
  if (existing !== undefined) return existing;
  // 0711: others may pass through but not list. The secrets are 0600 files; the embedded PostgreSQL,
  // run as the `postgres` user when we are root, keeps its data in `.data/postgres` and must reach it.
  await mkdir(path.dirname(file), { recursive: true, mode: 0o711 });
  const secret = make();
  try {
    // `wx`: when the server and the CLI start together, the first writer wins and the other reads it.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600); // the umask may have narrowed nothing, but make sure
    return secret;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    // The other writer may not have written its bytes yet.
    for (let attempt = 0; attempt < 40; attempt++) {
      const written = await readSecret(file);
      if (written !== undefined) return written;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${file} exists but holds no secret; delete it to have a new one made`);
  }
}

async function readSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret.length === 0) return undefined;
  if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters; delete it to have a new one made`);
  return secret;
}
