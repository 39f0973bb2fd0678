/**
 * The SCRAM key cache (src/infra/scram-key-cache.ts) through pg's own SASL code: the same
 * password and salt derive once and answer byte for byte what pg computes without the cache; a
 * different password or salt derives its own key. End to end (a real server checking the proof)
 * it runs in every test that signs in to the second server (scram-sha-256), e.g. db-servers.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { installScramKeyCache } from '../../src/infra/scram-key-cache.js';

type Session = { clientNonce: string; message: string; response: string; serverSignature: string };
const require = createRequire(import.meta.url);
const sasl = require('pg/lib/crypto/sasl') as {
  startSession(mechanisms: string[]): Session;
  continueSession(session: Session, password: string, serverData: string): Promise<void>;
};

/** pg's client-final message for a fixed client nonce, server nonce, salt and password. */
async function clientFinal(password: string, salt: Buffer, clientNonce = 'fixedclientnonce'): Promise<{ response: string; serverSignature: string }> {
  const session = sasl.startSession(['SCRAM-SHA-256']);
  session.clientNonce = clientNonce;
  await sasl.continueSession(session, password, `r=${clientNonce}servernonce,s=${salt.toString('base64')},i=4096`);
  return { response: session.response, serverSignature: session.serverSignature };
}

describe('SCRAM key cache', () => {
  it('derives a password and salt once and answers as pg does without it', async () => {
    const salt = randomBytes(16);
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const uncached = await clientFinal(password, salt);

    const stats = installScramKeyCache();
    expect(installScramKeyCache()).toBe(stats); // once per process
    const before = { ...stats };
    const first = await clientFinal(password, salt);
    const second = await clientFinal(password, salt);
    expect(first).toEqual(uncached);
    expect(second).toEqual(uncached);
    expect(stats.derived - before.derived).toBe(1);
    expect(stats.reused - before.reused).toBe(1);

    // Another password, or the same password with a new salt (it was changed), is its own key.
    const other = await clientFinal(`${password}x`, salt);
    const newSalt = await clientFinal(password, randomBytes(16));
    expect(other.response).not.toEqual(uncached.response);
    expect(newSalt.response).not.toEqual(uncached.response);
    expect(stats.derived - before.derived).toBe(3);
  });
});
