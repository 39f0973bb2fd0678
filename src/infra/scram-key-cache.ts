/**
 * SCRAM-SHA-256 sign-in makes the client derive a key from the password with PBKDF2 on every new
 * connection: 4096 iterations by default, about 1 ms of CPU here (bench/ and
 * docs/BENCHMARKS.md). The result depends only on the password, the role's salt and the iteration
 * count, which stay the same until the role's password changes; so it is derived once and
 * remembered. A registry that opens connections all day (pools growing, connections closed to
 * stay in the budget and opened again, a server restart) then pays the derivation once per
 * password instead of once per connection. The server's own check is unchanged: it still proves
 * the password on every connection, and a changed password (a new salt) derives a new key.
 *
 * pg has no hook for this; its SASL code calls `deriveKey` on its crypto utility module at call
 * time, so that one function is wrapped, once per process.
 *
 * What is kept: the derived key, which is as secret as the password the pool configuration
 * already holds in memory, under a SHA-256 of password, salt and iteration count (the password is
 * never a map key). At most MAX_KEYS entries, least recently used out first; never logged.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';

type DeriveKey = (password: string, salt: Uint8Array, iterations: number) => Promise<ArrayBuffer>;
type PgCryptoUtils = { deriveKey: DeriveKey & { scramKeyCache?: ScramKeyCacheStats } };

/** Distinct passwords × salts remembered; a process signs in as a handful of roles. */
const MAX_KEYS = 1000;

export type ScramKeyCacheStats = { derived: number; reused: number };

const require = createRequire(import.meta.url);

/**
 * Wraps pg's key derivation with the cache (once; later calls return the same counters).
 * Returns how many keys were derived and how many sign-ins reused one, for tests and metrics.
 */
export function installScramKeyCache(): ScramKeyCacheStats {
  const utils = require('pg/lib/crypto/utils') as PgCryptoUtils;
  if (utils.deriveKey.scramKeyCache) return utils.deriveKey.scramKeyCache;
  const derive = utils.deriveKey;
  const stats: ScramKeyCacheStats = { derived: 0, reused: 0 };
  const keys = new LRUCache<string, Promise<ArrayBuffer>>({ max: MAX_KEYS });
  const cached = ((password, salt, iterations) => {
    const id = createHash('sha256').update(password).update('\0').update(salt).update('\0').update(String(iterations)).digest('base64');
    const known = keys.get(id);
    if (known) {
      stats.reused++;
      return known;
    }
    stats.derived++;
    const key = derive(password, salt, iterations);
    keys.set(id, key);
    // A failed derivation is not remembered: the next sign-in tries again.
    key.catch(() => keys.delete(id));
    return key;
  }) as PgCryptoUtils['deriveKey'];
  cached.scramKeyCache = stats;
  utils.deriveKey = cached;
  return stats;
}
