import { describe, expect, it } from 'vitest';
import { maskSecrets, MASK } from '../../src/auth/audit.js';
import { ABILITIES, assertAbilities, assertMembershipRole, grants, isRole, unknownRole } from '../../src/auth/catalogue.js';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import { legacyOpener, sealLegacy } from '../../src/infra/crypto/legacy-secret-box.js';
import { randomBytes } from 'node:crypto';

describe('the role and ability catalogue', () => {
  it('knows the roles and refuses others, naming them', () => {
    expect(isRole('admin')).toBe(true);
    expect(isRole('nurse')).toBe(false);
    expect(unknownRole(['member', 'nurse', 'doctor'])).toBe('nurse');
    expect(() => assertMembershipRole('nurse')).toThrow(/Unknown role "nurse"; expected one of admin, member/);
    // system_admin is an account flag, never a membership role.
    expect(() => assertMembershipRole('system_admin')).toThrow(/Unknown role/);
  });

  it('knows the abilities, their wildcards, and refuses others', () => {
    expect(ABILITIES).toEqual(expect.arrayContaining(['patients:read', 'patients:write', 'visits:*', 'invoices:*', '*']));
    expect(assertAbilities(['patients:read', 'patients:read'])).toEqual(['patients:read']);
    expect(() => assertAbilities(['patients:read', 'patient:read'])).toThrow(/Unknown ability "patient:read"/);
    expect(grants(['patients:*'], 'patients:write')).toBe(true);
    expect(grants(['*'], 'invoices:read')).toBe(true);
    expect(grants(['patients:read'], 'patients:write')).toBe(false);
  });
});

describe('maskSecrets', () => {
  it('masks values under secret-looking keys at any depth and keeps the rest', () => {
    expect(maskSecrets({ email: 'a@b.c', password: 'hunter2', nested: { refreshToken: 'rt_x', list: [{ code: '123' }] }, role: 'admin' })).toEqual({
      email: 'a@b.c',
      password: MASK,
      nested: { refreshToken: MASK, list: [{ code: MASK }] },
      role: 'admin',
    });
  });
});

describe('the legacy secret box (TOTP secrets from before the key ring)', () => {
  it('opens what older versions sealed, and refuses tampered or foreign ciphertexts', () => {
    const key = randomBytes(32);
    const sealed = sealLegacy(key, 'JBSWY3DPEHPK3PXP', 'k9');
    expect(sealed).toMatch(/^v1:k9:/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(legacyOpener(key)(sealed)).toBe('JBSWY3DPEHPK3PXP');
    const parts = sealed.split(':');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => legacyOpener(key)(parts.join(':'))).toThrow();
    expect(() => legacyOpener(randomBytes(32))(sealed)).toThrow();
  });
});

describe('the login throttle (in memory)', () => {
  it('locks an account after maxFailures and an IP after its own limit, and a success clears the account', async () => {
    const throttle = new LoginThrottle({ maxFailures: 2, maxFailuresPerIp: 3, lockSeconds: 60 });
    await throttle.recordFailure('a@x', '10.0.0.1');
    expect(await throttle.check('a@x', '10.0.0.1')).toEqual({ locked: false });
    await throttle.recordFailure('a@x', '10.0.0.1');
    const locked = await throttle.check('a@x', '10.0.0.2');
    expect(locked.locked).toBe(true);
    expect(locked.locked && locked.retryAfterSeconds).toBeGreaterThan(55);
    // The IP: a third failure (another account) locks every account from it.
    await throttle.recordFailure('b@x', '10.0.0.1');
    expect((await throttle.check('c@x', '10.0.0.1')).locked).toBe(true);
    expect((await throttle.check('c@x', '10.0.0.9')).locked).toBe(false);
    await throttle.recordSuccess('a@x');
    expect((await throttle.check('a@x', '10.0.0.2')).locked).toBe(false);
  });
});
