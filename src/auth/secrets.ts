/**
 * Random credentials and their stored form. Refresh tokens, API tokens, exchange codes and
 * recovery codes carry 256 bits of randomness, so a plain SHA-256 is a safe stored form (a slow
 * hash protects guessable passwords, not random tokens) and lets a lookup use a unique index.
 */
import { createHash, randomBytes } from 'node:crypto';

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
