import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig, type IdentifierName } from '../../src/config.js';
import { AppError, ErrorCode } from '../../src/errors/index.js';
import { makeAccessTokenKeys, mintAccessToken, type AccessTokenClaims } from '../../src/tenancy/identification/access-tokens.js';
import { chainTarget, type IdentificationInput, type TenantChain, type TenantRecord } from '../../src/tenancy/identification/identification-types.js';
import { identifyRequest, makeIdentifiers } from '../../src/tenancy/identification/identify-request.js';
import { type TenantDirectory } from '../../src/tenancy/identification/tenant-directory.js';

const keys = await makeAccessTokenKeys('unit-test-secret-unit-test-secret-0123456789', {
  keyId: 'k1',
  issuer: 'tenantgraph',
  audience: 'tenantgraph-api',
  accessTokenTtlSeconds: 3600,
});

function record(level: TenantRecord['level'], slug: string, parentId: string | null, overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id: randomUUID(),
    level,
    parentId,
    key: slug.replace(/-/g, '_'),
    slug,
    name: slug,
    status: 'ACTIVE',
    isolation: 'DATABASE',
    databaseName: level === 'TENANT' ? `tenant_${slug.replace(/-/g, '_')}` : null,
    schemaName: null,
    maintenance: false,
    maintenanceMessage: null,
    deletedAt: null,
    ...overrides,
  };
}

/** An in-memory directory: the records below, with domains. */
class FakeDirectory implements TenantDirectory {
  readonly chains: TenantChain[] = [];
  readonly domains = new Map<string, TenantChain>();
  lookups = 0;

  add(chain: TenantChain, ...domains: string[]): TenantChain {
    this.chains.push(chain);
    for (const domain of domains) this.domains.set(domain, chain);
    return chain;
  }
  async findById(id: string) {
    this.lookups++;
    return this.chains.find((chain) => chainTarget(chain).id === id);
  }
  async findBySlug(slug: string) {
    this.lookups++;
    return this.chains.find((chain) => chainTarget(chain).slug === slug);
  }
  async findByDomain(domain: string) {
    this.lookups++;
    return this.domains.get(domain);
  }
  async close() {}
}

const app = record('APP', 'wellmed', null);
const groupA = record('CENTRAL_TENANT', 'chain-a', app.id);
const groupB = record('CENTRAL_TENANT', 'chain-b', app.id);
const clinicA = record('TENANT', 'clinic-a', groupA.id);
const clinicA2 = record('TENANT', 'clinic-a2', groupA.id);
const clinicB = record('TENANT', 'clinic-b', groupB.id);

function makeDirectory() {
  const directory = new FakeDirectory();
  directory.add({ level: 'APP', app });
  directory.add({ level: 'CENTRAL_TENANT', app, group: groupA }, 'chain-a.example.com');
  directory.add({ level: 'CENTRAL_TENANT', app, group: groupB });
  directory.add({ level: 'TENANT', app, group: groupA, tenant: clinicA }, 'clinic-a.example.com');
  directory.add({ level: 'TENANT', app, group: groupA, tenant: clinicA2 }, 'clinic-a2.example.com');
  directory.add({ level: 'TENANT', app, group: groupB, tenant: clinicB }, 'clinic-b.example.com');
  return directory;
}

function setup(env: Record<string, string> = {}) {
  const config = parseConfig({ NODE_ENV: 'test', CENTRAL_DOMAIN: 'tg.test', CENTRAL_DOMAINS: 'localhost,api.tg.test', ...env });
  const directory = makeDirectory();
  const deps = { directory, identifiers: makeIdentifiers(config.tenancy), tokens: keys };
  return {
    directory,
    identify: async (input: Partial<IdentificationInput> & { token?: AccessTokenClaims }) => {
      const authorization = input.token ? `Bearer ${await mintAccessToken(keys, input.token)}` : input.authorization;
      return identifyRequest({ host: input.host ?? 'localhost', authorization, tenantHeader: input.tenantHeader }, deps);
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode) {
  const error = await rejection(promise);
  expect(error.code).toBe(code);
  return error;
}

const targetOf = async (promise: Promise<{ scope: { level: string } }>) => {
  const { scope } = await promise;
  return scope.level === 'CENTRAL' ? 'CENTRAL' : chainTarget(scope as TenantChain).slug;
};

const systemAdmin = { subject: 'root', roles: ['system_admin'] };
const groupAAdmin = { subject: 'ga', tenantId: groupA.id, roles: ['admin'] };
const groupAMember = { subject: 'gm', tenantId: groupA.id, roles: ['member'] };
const clinicAMember = { subject: 'ca', tenantId: clinicA.id, roles: ['member'] };
const clinicBAdmin = { subject: 'cb', tenantId: clinicB.id, roles: ['admin'] };

describe('makeIdentifiers', () => {
  it('builds the configured identifiers in the configured order', () => {
    const config = parseConfig({ TENANT_IDENTIFIERS: 'header,subdomain,token' });
    expect(makeIdentifiers(config.tenancy).map((identifier) => identifier.name)).toEqual<IdentifierName[]>(['header', 'subdomain', 'token']);
    expect(makeIdentifiers(parseConfig({}).tenancy).map((identifier) => identifier.name)).toEqual(['token', 'domain', 'subdomain', 'header']);
  });
});

describe('identifyRequest', () => {
  it('central host, no token: central scope, anonymous', async () => {
    const { identify } = setup();
    expect(await identify({ host: 'localhost' })).toEqual({ principal: { kind: 'anonymous' }, scope: { level: 'CENTRAL' } });
    expect(await targetOf(identify({ host: 'api.tg.test' }))).toBe('CENTRAL');
    expect(await targetOf(identify({ host: 'tg.test' }))).toBe('CENTRAL');
  });

  it('exact domain: the tenant with its group and app', async () => {
    const { identify } = setup();
    const { scope } = await identify({ host: 'clinic-a.example.com' });
    expect(scope).toEqual({ level: 'TENANT', app, group: groupA, tenant: clinicA });
    expect(await targetOf(identify({ host: 'chain-a.example.com' }))).toBe('chain-a');
  });

  it('subdomain of the central domain: by slug', async () => {
    const { identify } = setup();
    expect(await targetOf(identify({ host: 'clinic-b.tg.test' }))).toBe('clinic-b');
    expect(await targetOf(identify({ host: 'wellmed.tg.test' }))).toBe('wellmed');
  });

  it('unknown hosts are TENANT_NOT_FOUND, even with a valid tenant token', async () => {
    const { identify } = setup();
    for (const host of ['nobody.example.com', 'nobody.tg.test', 'a.clinic-a.tg.test', 'evil.com']) {
      const error = await expectCode(identify({ host }), ErrorCode.TENANT_NOT_FOUND);
      expect((error.extensions.http as { status: number }).status).toBe(404);
    }
    await expectCode(identify({ host: 'nobody.example.com', token: clinicAMember }), ErrorCode.TENANT_NOT_FOUND);
  });

  it('the host is not checked when no host identifier is configured', async () => {
    const { identify } = setup({ TENANT_IDENTIFIERS: 'token,header' });
    expect(await targetOf(identify({ host: 'nobody.example.com' }))).toBe('CENTRAL');
    expect(await targetOf(identify({ host: 'nobody.example.com', token: clinicAMember }))).toBe('clinic-a');
  });

  it('with the token identifier off, the token tenant selects nothing but may not contradict the host', async () => {
    const { identify } = setup({ TENANT_IDENTIFIERS: 'domain,subdomain' });
    expect(await targetOf(identify({ host: 'localhost', token: clinicAMember }))).toBe('CENTRAL');
    expect(await targetOf(identify({ host: 'clinic-a.example.com', token: clinicAMember }))).toBe('clinic-a');
    const error = await expectCode(identify({ host: 'clinic-b.example.com', token: clinicAMember }), ErrorCode.TENANT_MISMATCH);
    expect(error.message).toBe('The access token and the host point to different tenants');
  });

  it('only configured identifiers are consulted', async () => {
    const { identify } = setup({ TENANT_IDENTIFIERS: 'token,domain' });
    // Subdomains are off: clinic-b.tg.test is just an unknown host.
    await expectCode(identify({ host: 'clinic-b.tg.test' }), ErrorCode.TENANT_NOT_FOUND);
    // X-Tenant is off: ignored, not an error.
    expect(await targetOf(identify({ host: 'localhost', tenantHeader: 'clinic-b', token: systemAdmin }))).toBe('CENTRAL');
  });

  it('token tenant on a central host: the token tenant', async () => {
    const { identify } = setup();
    const result = await identify({ host: 'localhost', token: { ...clinicAMember, abilities: ['x'] } });
    expect(result.principal).toMatchObject({ kind: 'user', subject: 'ca', tenantId: clinicA.id, roles: ['member'], abilities: ['x'] });
    expect(await targetOf(Promise.resolve(result))).toBe('clinic-a');
  });

  it('token tenant = host tenant: fine', async () => {
    const { identify } = setup();
    expect(await targetOf(identify({ host: 'clinic-a.example.com', token: clinicAMember }))).toBe('clinic-a');
    expect(await targetOf(identify({ host: 'clinic-a.tg.test', token: clinicAMember }))).toBe('clinic-a');
  });

  it('token tenant ≠ host tenant: TENANT_MISMATCH (403), never a guess', async () => {
    const { identify } = setup();
    const error = await expectCode(identify({ host: 'clinic-b.example.com', token: clinicAMember }), ErrorCode.TENANT_MISMATCH);
    expect((error.extensions.http as { status: number }).status).toBe(403);
    expect(error.message).toBe('The access token and the host point to different tenants');
    // A group admin's token does not open its clinics' hosts by itself...
    await expectCode(identify({ host: 'clinic-a.example.com', token: groupAAdmin }), ErrorCode.TENANT_MISMATCH);
    // ...nor does a clinic token open its group's host.
    await expectCode(identify({ host: 'chain-a.example.com', token: clinicAMember }), ErrorCode.TENANT_MISMATCH);
  });

  it('two host identifiers naming different tenants: TENANT_MISMATCH, named in configured order', async () => {
    const { identify, directory } = setup({ TENANT_IDENTIFIERS: 'subdomain,domain' });
    // A domain registered to clinic-b that looks like clinic-a's subdomain.
    directory.domains.set('clinic-a.tg.test', directory.chains.find((chain) => chainTarget(chain).id === clinicB.id)!);
    const error = await expectCode(identify({ host: 'clinic-a.tg.test' }), ErrorCode.TENANT_MISMATCH);
    expect(error.message).toBe('The subdomain and the host point to different tenants');
    expect(error.extensions.identifiers).toEqual(['subdomain', 'domain']);
  });

  it('a token naming a tenant that no longer exists: UNAUTHENTICATED', async () => {
    const { identify } = setup();
    const error = await expectCode(identify({ host: 'localhost', token: { subject: 'x', tenantId: randomUUID(), roles: ['admin'] } }), ErrorCode.UNAUTHENTICATED);
    expect(error.message).toMatch(/no longer exists/);
  });

  it('a bad bearer token is UNAUTHENTICATED before anything else', async () => {
    const { identify, directory } = setup();
    await expectCode(identify({ host: 'nobody.example.com', authorization: 'Bearer nope' }), ErrorCode.UNAUTHENTICATED);
    await expectCode(identify({ host: 'localhost', authorization: 'Bearer ' }), ErrorCode.UNAUTHENTICATED);
    expect(directory.lookups).toBe(0);
  });

  describe('X-Tenant', () => {
    it('system admins may name any tenant, by slug or id', async () => {
      const { identify } = setup();
      expect(await targetOf(identify({ token: systemAdmin, tenantHeader: 'clinic-b' }))).toBe('clinic-b');
      expect(await targetOf(identify({ token: systemAdmin, tenantHeader: clinicA.id.toUpperCase() }))).toBe('clinic-a');
      expect(await targetOf(identify({ token: systemAdmin, tenantHeader: ' Chain-A ' }))).toBe('chain-a');
    });

    it('a system admin naming an unknown tenant: TENANT_NOT_FOUND', async () => {
      const { identify } = setup();
      await expectCode(identify({ token: systemAdmin, tenantHeader: 'nobody' }), ErrorCode.TENANT_NOT_FOUND);
      await expectCode(identify({ token: systemAdmin, tenantHeader: randomUUID() }), ErrorCode.TENANT_NOT_FOUND);
    });

    it('an admin of the group (or app) may name its descendants; the token tenant is then the ancestor', async () => {
      const { identify } = setup();
      expect(await targetOf(identify({ token: groupAAdmin, tenantHeader: 'clinic-a' }))).toBe('clinic-a');
      expect(await targetOf(identify({ token: groupAAdmin, tenantHeader: 'clinic-a2' }))).toBe('clinic-a2');
      const appAdmin = { subject: 'aa', tenantId: app.id, roles: ['admin'] };
      expect(await targetOf(identify({ token: appAdmin, tenantHeader: 'clinic-b' }))).toBe('clinic-b');
      expect(await targetOf(identify({ token: appAdmin, tenantHeader: 'chain-b' }))).toBe('chain-b');
      // On the group's own host too: the header narrows to a clinic of that group.
      expect(await targetOf(identify({ host: 'chain-a.example.com', token: groupAAdmin, tenantHeader: 'clinic-a' }))).toBe('clinic-a');
    });

    it('naming the token tenant itself adds nothing and is allowed', async () => {
      const { identify } = setup();
      expect(await targetOf(identify({ token: clinicAMember, tenantHeader: 'clinic-a' }))).toBe('clinic-a');
    });

    it('anyone else: FORBIDDEN, whether the tenant exists or not', async () => {
      const { identify } = setup();
      const cases: [AccessTokenClaims | undefined, string][] = [
        [undefined, 'clinic-a'],
        [clinicAMember, 'clinic-b'],
        [clinicAMember, 'clinic-a2'],
        [clinicAMember, 'chain-a'], // an ancestor is not a descendant
        [groupAMember, 'clinic-a'], // member, not admin, of the group
        [groupAAdmin, 'clinic-b'], // admin of another group
        [clinicBAdmin, 'clinic-a'],
        [clinicBAdmin, 'nobody'],
        [undefined, 'nobody'],
      ];
      for (const [token, tenantHeader] of cases) {
        const error = await expectCode(identify({ token, tenantHeader }), ErrorCode.FORBIDDEN);
        expect((error.extensions.http as { status: number }).status).toBe(403);
      }
    });

    it('a malformed value is BAD_REQUEST', async () => {
      const { identify } = setup();
      await expectCode(identify({ token: systemAdmin, tenantHeader: '' }), ErrorCode.BAD_REQUEST);
      await expectCode(identify({ token: systemAdmin, tenantHeader: 'a b' }), ErrorCode.BAD_REQUEST);
      await expectCode(identify({ token: systemAdmin, tenantHeader: "x'; drop table tenants" }), ErrorCode.BAD_REQUEST);
    });

    it('contradicting the host or token is TENANT_MISMATCH', async () => {
      const { identify } = setup();
      await expectCode(identify({ host: 'clinic-a.example.com', token: systemAdmin, tenantHeader: 'clinic-b' }), ErrorCode.TENANT_MISMATCH);
      // The header names a sibling of the host tenant, not a descendant.
      await expectCode(identify({ host: 'clinic-a.example.com', token: groupAAdmin, tenantHeader: 'clinic-a2' }), ErrorCode.TENANT_MISMATCH);
      // A system admin's token bound to clinic-a, header naming clinic-b.
      await expectCode(identify({ token: { ...systemAdmin, tenantId: clinicA.id }, tenantHeader: 'clinic-b' }), ErrorCode.TENANT_MISMATCH);
    });

    it('order of identifiers does not change the outcome of a narrowing', async () => {
      const { identify } = setup({ TENANT_IDENTIFIERS: 'header,subdomain,domain,token' });
      expect(await targetOf(identify({ token: groupAAdmin, tenantHeader: 'clinic-a' }))).toBe('clinic-a');
      await expectCode(identify({ host: 'clinic-b.example.com', token: groupAAdmin, tenantHeader: 'clinic-a' }), ErrorCode.TENANT_MISMATCH);
    });
  });

  describe('tenant status', () => {
    function setupWith(changes: Partial<TenantRecord>, on: 'tenant' | 'group' = 'tenant') {
      const context = setup();
      const chain = context.directory.chains.find((c) => chainTarget(c).id === clinicA.id) as Extract<TenantChain, { level: 'TENANT' }>;
      if (on === 'tenant') chain.tenant = { ...chain.tenant, ...changes };
      else chain.group = { ...chain.group, ...changes };
      return context;
    }

    it('deleted, provisioning, failed or deleting: TENANT_NOT_FOUND, for everyone', async () => {
      for (const changes of [{ deletedAt: '2024-01-01T00:00:00+00:00' }, { status: 'PROVISIONING' }, { status: 'FAILED' }, { status: 'DELETING' }] as const) {
        const { identify } = setupWith(changes);
        await expectCode(identify({ host: 'clinic-a.example.com' }), ErrorCode.TENANT_NOT_FOUND);
        await expectCode(identify({ token: systemAdmin, tenantHeader: 'clinic-a' }), ErrorCode.TENANT_NOT_FOUND);
        await expectCode(identify({ token: clinicAMember }), ErrorCode.TENANT_NOT_FOUND);
      }
    });

    it('a deleted group hides its clinics', async () => {
      const { identify } = setupWith({ deletedAt: '2024-01-01T00:00:00+00:00' }, 'group');
      await expectCode(identify({ host: 'clinic-a.example.com' }), ErrorCode.TENANT_NOT_FOUND);
    });

    it('suspended: TENANT_SUSPENDED (403); system admins pass', async () => {
      const { identify } = setupWith({ status: 'SUSPENDED' });
      const error = await expectCode(identify({ host: 'clinic-a.example.com', token: { ...clinicAMember, roles: ['admin'] } }), ErrorCode.TENANT_SUSPENDED);
      expect((error.extensions.http as { status: number }).status).toBe(403);
      await expectCode(identify({ token: groupAAdmin, tenantHeader: 'clinic-a' }), ErrorCode.TENANT_SUSPENDED);
      expect(await targetOf(identify({ host: 'clinic-a.example.com', token: systemAdmin }))).toBe('clinic-a');
    });

    it('a suspended group suspends its clinics', async () => {
      const { identify } = setupWith({ status: 'SUSPENDED' }, 'group');
      await expectCode(identify({ host: 'clinic-a.example.com' }), ErrorCode.TENANT_SUSPENDED);
    });

    it('maintenance: TENANT_MAINTENANCE (503) with Retry-After; system admins and admins of the tenant or an ancestor pass', async () => {
      const { identify } = setupWith({ maintenance: true, maintenanceMessage: 'Back at noon' });
      for (const token of [undefined, clinicAMember, { ...clinicAMember, roles: ['viewer', 'system'] }]) {
        const error = await expectCode(identify({ host: 'clinic-a.example.com', token }), ErrorCode.TENANT_MAINTENANCE);
        expect(error.message).toBe('Back at noon');
        const http = error.extensions.http as { status: number; headers: Map<string, string> };
        expect(http.status).toBe(503);
        expect(http.headers.get('Retry-After')).toBe('60');
      }
      expect(await targetOf(identify({ host: 'clinic-a.example.com', token: systemAdmin }))).toBe('clinic-a');
      expect(await targetOf(identify({ host: 'clinic-a.example.com', token: { ...clinicAMember, roles: ['admin'] } }))).toBe('clinic-a');
      expect(await targetOf(identify({ token: groupAAdmin, tenantHeader: 'clinic-a' }))).toBe('clinic-a');
    });

    it('maintenance of the group applies to its clinics, with a default message', async () => {
      const { identify } = setupWith({ maintenance: true }, 'group');
      const error = await expectCode(identify({ host: 'clinic-a.example.com' }), ErrorCode.TENANT_MAINTENANCE);
      expect(error.message).toMatch(/maintenance/);
    });
  });
});
