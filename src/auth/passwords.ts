/**
 * Password hashing with argon2id (@node-rs/argon2, its defaults: 19 MiB, 2 passes).
 * `verifyOrBurn` spends the same work when there is no account, so an unknown email and a wrong
 * password take the same time.
 */
import { hash, verify } from '@node-rs/argon2';

/** @node-rs/argon2's Algorithm.Argon2id; a const enum we cannot import under isolatedModules. */
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID } as const;
export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks a password against a stored hash; with no stored hash it verifies against a dummy hash
 * of the same parameters and answers false.
 */
export async function verifyOrBurn(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hash('tenantgraph-no-such-account', OPTIONS);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}

/** Warms the dummy hash so the first unknown-account login is not slower than the rest. */
export async function warmPasswordHashing(): Promise<void> {
  dummyHash ??= hash('tenantgraph-no-such-account', OPTIONS);
  await dummyHash;
}
