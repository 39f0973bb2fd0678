import { describe, expect, it } from 'vitest';
import { validHostName } from '../../src/tenancy/domains/host-name.js';

describe('validHostName (custom domains)', () => {
  it('accepts lower-case DNS host names of two labels or more', () => {
    for (const host of ['clinic.example.com', 'a.io', 'xn--bcher-kva.example', 'my-clinic.co.uk', `${'a'.repeat(63)}.test`]) expect([host, validHostName(host)]).toEqual([host, true]);
  });

  it('refuses addresses, ports, single labels, bad labels and upper case', () => {
    for (const host of ['', 'localhost', '127.0.0.1', '[::1]', 'x.test:80', 'x.test.', '.x.test', 'a..b', '-a.test', 'a-.test', 'A.test', 'a_b.test', 'a b.test', `${'a'.repeat(64)}.test`, `${'a.'.repeat(127)}test`]) {
      expect([host, validHostName(host)]).toEqual([host, false]);
    }
  });
});
