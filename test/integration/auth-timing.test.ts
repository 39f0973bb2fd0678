/**
 * The issue asks for this one as a test: an unknown account and a wrong password must take the
 * same time (within 10 % of each other, medians over 50 tries each), so sign-in reveals nothing
 * about which emails have accounts. The two kinds alternate, so load from other tests on the
 * machine falls on both alike.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, LOGIN, makeAccount, makeTenantTree } from '../helpers/auth.js';

const TRIES = 50;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ LOGIN_MAX_FAILURES: '100000' }, { auth: AUTH_TEST_OPTIONS });
});
afterAll(() => app?.stop());

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

it('answers an unknown account and a wrong password in the same time', async () => {
  const tree = await makeTenantTree(app.central.pool);
  const account = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
  const time = async (email: string) => {
    const started = process.hrtime.bigint();
    const result = await app.gql(LOGIN, { email, password: 'definitely not the password' });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    expect(result.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    return elapsed;
  };
  // Warm both paths (JIT, connections) before measuring.
  for (let i = 0; i < 3; i++) {
    await time(account.email);
    await time(`warm-${i}@example.test`);
  }
  const wrongPassword: number[] = [];
  const unknownAccount: number[] = [];
  for (let i = 0; i < TRIES; i++) {
    // Which goes first alternates, so neither kind always follows the other.
    if (i % 2 === 0) {
      wrongPassword.push(await time(account.email));
      unknownAccount.push(await time(`nobody-${i}-${Date.now()}@example.test`));
    } else {
      unknownAccount.push(await time(`nobody-${i}-${Date.now()}@example.test`));
      wrongPassword.push(await time(account.email));
    }
  }
  const [known, unknown] = [median(wrongPassword), median(unknownAccount)];
  const difference = Math.abs(known - unknown) / Math.max(known, unknown);
  expect(difference, `medians: wrong password ${known.toFixed(1)} ms, unknown account ${unknown.toFixed(1)} ms`).toBeLessThanOrEqual(0.1);
}, 120_000);
