import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_OPTIONS, bearer, LOGIN, makeAccount, makeTenantTree, PASSWORD } from '../helpers/auth.js';

const VERIFY = `mutation ($c: String!, $code: String!) { verifyTwoFactor(challenge: $c, code: $code) { accessToken refreshToken } }`;
type Enrolment = { enrolTwoFactor: { secret: string; otpauthUri: string; recoveryCodes: string[] } };

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ REQUIRE_ADMIN_2FA: 'true' }, { auth: AUTH_TEST_OPTIONS });
});
afterAll(() => app?.stop());

const totp = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();

describe('two-factor sign-in', () => {
  it('is required of system admins: login answers TWO_FACTOR_REQUIRED, enrolment with the challenge, then verifyTwoFactor signs in', async () => {
    const admin = await makeAccount(app.central.pool, { systemAdmin: true });
    const first = await app.gql(LOGIN, { email: admin.email, password: PASSWORD });
    expect(first.status).toBe(401);
    const error = first.body.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'TWO_FACTOR_REQUIRED', enrolmentRequired: true });
    const challenge = error.extensions!.challenge as string;
    // The challenge is not an access token.
    expect((await app.gql(`{ me { authenticated } }`, {}, bearer(challenge))).status).toBe(401);

    const enrolment = await app.gql<Enrolment>(`mutation ($c: String) { enrolTwoFactor(challenge: $c) { secret otpauthUri recoveryCodes } }`, { c: challenge });
    const { secret, otpauthUri, recoveryCodes } = enrolment.body.data!.enrolTwoFactor;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(recoveryCodes).toHaveLength(10);
    const stored = (
      await app.central.pool.query('SELECT two_factor_secret_ciphertext, two_factor_secret_key_id, two_factor_recovery_hashes FROM accounts WHERE id = $1', [admin.id])
    ).rows[0];
    expect(stored.two_factor_secret_key_id).toBe('t1'); // on the key ring, so keys:rotate covers it
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(recoveryCodes[0]);

    expect((await app.gql(VERIFY, { c: challenge, code: '000000' })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const usedCode = totp(secret);
    const signedIn = await app.gql<{ verifyTwoFactor: { accessToken: string } }>(VERIFY, { c: challenge, code: usedCode });
    expect(signedIn.body.errors).toBeUndefined();
    expect(signedIn.body.data!.verifyTwoFactor.accessToken).toBeTruthy();

    // Enrolled now: the next login is challenged without enrolment, and a recovery code works once.
    const next = await app.gql(LOGIN, { email: admin.email, password: PASSWORD });
    expect(next.body.errors![0]!.extensions).toMatchObject({ code: 'TWO_FACTOR_REQUIRED', enrolmentRequired: false });
    const nextChallenge = next.body.errors![0]!.extensions!.challenge as string;
    // The code that signed in a moment ago is used up, though still inside its time window.
    const replayed = await app.gql(VERIFY, { c: nextChallenge, code: usedCode });
    expect(replayed.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await app.gql(VERIFY, { c: nextChallenge, code: recoveryCodes[0] })).body.errors).toBeUndefined();
    expect((await app.gql(VERIFY, { c: nextChallenge, code: recoveryCodes[0] })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('locks the second factor after LOGIN_MAX_FAILURES wrong codes', async () => {
    const admin = await makeAccount(app.central.pool, { systemAdmin: true });
    const challenge = (await app.gql(LOGIN, { email: admin.email, password: PASSWORD })).body.errors![0]!.extensions!.challenge as string;
    const { secret } = (await app.gql<Enrolment>(`mutation ($c: String) { enrolTwoFactor(challenge: $c) { secret otpauthUri recoveryCodes } }`, { c: challenge })).body.data!
      .enrolTwoFactor;
    for (let i = 0; i < 5; i++) expect((await app.gql(VERIFY, { c: challenge, code: '000000' })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const locked = await app.gql(VERIFY, { c: challenge, code: totp(secret) });
    expect(locked.status).toBe(429);
    expect(locked.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('members enrol while signed in and are challenged afterwards', async () => {
    const tree = await makeTenantTree(app.central.pool);
    const member = await makeAccount(app.central.pool, { memberships: [{ tenantId: tree.clinicA, role: 'member' }] });
    const token = (await app.gql<{ login: { accessToken: string } }>(LOGIN, { email: member.email, password: PASSWORD })).body.data!.login.accessToken;
    const { secret } = (await app.gql<Enrolment>(`mutation { enrolTwoFactor { secret otpauthUri recoveryCodes } }`, {}, bearer(token))).body.data!.enrolTwoFactor;
    expect((await app.gql(`mutation ($c: String!) { confirmTwoFactor(code: $c) }`, { c: totp(secret) }, bearer(token))).body.data).toEqual({ confirmTwoFactor: true });
    const login = await app.gql(LOGIN, { email: member.email, password: PASSWORD });
    expect(login.body.errors?.[0]?.extensions?.code).toBe('TWO_FACTOR_REQUIRED');
  });
});
