import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { AppError, ErrorCode } from '../../src/errors/index.js';
import { makeLogger } from '../../src/infra/logger.js';
import { closeRedis, openRedis, type RedisClient } from '../../src/infra/redis.js';
import { mintAccessToken, type AccessTokenClaims, type AccessTokenKeys } from '../../src/tenancy/identification/access-tokens.js';
import { chainTarget, type IdentificationInput, type TenantChain } from '../../src/tenancy/identification/identification-types.js';
import { identifyRequest, makeIdentifiers } from '../../src/tenancy/identification/identify-request.js';
import { loadAccessTokenKeys, resolveJwtSecret } from '../../src/tenancy/identification/jwt-secret.js';
import { openTenancyEvents, type TenancyEvents } from '../../src/tenancy/events/index.js';
import { createTenantDirectory, directoryEntryKey, type CachedTenantDirectory } from '../../src/tenancy/identification/tenant-directory.js';
import { PgTenantSource } from '../../src/tenancy/identification/tenant-records.js';
import { testPool } from '../helpers/database.js';

const redisUrl = inject('redisUrl');
if (!redisUrl) throw new Error(inject('redisProblem') ?? 'Redis is needed for identification tests');

const config = parseConfig({
  NODE_ENV: 'test',
  CENTRAL_DOMAIN: 'tg.test',
  CENTRAL_DOMAINS: 'localhost,api.tg.test',
  JWT_SECRET: 'integration-secret-integration-secret-0123456789',
  TENANT_CACHE_TTL_MS: '60000',
});
const logger = makeLogger('silent');
const pool = testPool(6);
const suffix = `${inject('runId')}${Math.random().toString(36).slice(2, 6)}`;
const redisClients: RedisClient[] = [];
const directories: CachedTenantDirectory[] = [];
const buses: TenancyEvents[] = [];
/** Each directory stands for a process: its own Redis connection and event bus. */
const busOf = new Map<CachedTenantDirectory, TenancyEvents>();
let keys: AccessTokenKeys;
let directory: CachedTenantDirectory;

type Ids = { app: string; group: string; group2: string; clinicA: string; clinicB: string; clinicC: string };
const ids = {} as Ids;
const slug = (name: string) => `${name}-${suffix}`;
const host = (name: string) => `${name}-${suffix}.example.test`;

async function insertTenant(level: 'APP' | 'CENTRAL_TENANT' | 'TENANT', name: string, parentId: string | null, domains: string[] = []): Promise<string> {
  const key = `k_${name.replace(/-/g, '_')}_${suffix}`;
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO tenants (level, parent_id, key, slug, name, status, database_name, db_password_ciphertext)
     VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6, 'SECRET-CIPHERTEXT') RETURNING id`,
    [level, parentId, key, slug(name), `Tenant ${name}`, level === 'TENANT' ? `tenant_${key}` : null],
  );
  const id = rows[0]!.id;
  for (const domain of domains) await pool.query('INSERT INTO domains (tenant_id, domain) VALUES ($1, $2)', [id, domain]);
  return id;
}

async function newDirectory(withRedis = true): Promise<CachedTenantDirectory> {
  const redis = withRedis ? openRedis(redisUrl!, logger, { name: 'test' }) : undefined;
  if (redis) redisClients.push(redis);
  const events = await openTenancyEvents({ redis, logger });
  buses.push(events);
  const made = await createTenantDirectory({ pool, config, logger, redis, events });
  directories.push(made);
  busOf.set(made, events);
  return made;
}

/** What code that changed a tenant does: publish, here from the process `on` stands for. */
async function tenantUpdated(id: string, on: CachedTenantDirectory = directory): Promise<void> {
  await busOf.get(on)!.publish({ type: 'TenantUpdated', tenantId: id });
}

beforeAll(async () => {
  keys = await loadAccessTokenKeys(config);
  directory = await newDirectory();
  ids.app = await insertTenant('APP', 'app', null);
  ids.group = await insertTenant('CENTRAL_TENANT', 'group', ids.app, [host('group')]);
  ids.group2 = await insertTenant('CENTRAL_TENANT', 'group2', ids.app);
  ids.clinicA = await insertTenant('TENANT', 'clinic-a', ids.group, [host('clinic-a'), `www.${host('clinic-a')}`]);
  ids.clinicB = await insertTenant('TENANT', 'clinic-b', ids.group, [host('clinic-b')]);
  ids.clinicC = await insertTenant('TENANT', 'clinic-c', ids.group2, [host('clinic-c')]);
});

afterAll(async () => {
  for (const made of directories) await made.close();
  for (const bus of buses) await bus.close();
  for (const client of redisClients) await closeRedis(client);
  await pool.end();
});

async function identify(input: Partial<IdentificationInput> & { token?: AccessTokenClaims }, on: CachedTenantDirectory = directory) {
  const authorization = input.token ? `Bearer ${await mintAccessToken(keys, input.token)}` : input.authorization;
  return identifyRequest(
    { host: input.host ?? 'localhost', authorization, tenantHeader: input.tenantHeader },
    { directory: on, identifiers: makeIdentifiers(config.tenancy), tokens: keys },
  );
}

async function targetSlug(input: Parameters<typeof identify>[0]): Promise<string> {
  const { scope } = await identify(input);
  return scope.level === 'CENTRAL' ? 'CENTRAL' : chainTarget(scope).slug;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

/** Changes a tenant row and tells every process, as any code changing a tenant must. */
async function changeTenant(id: string, set: string): Promise<void> {
  await pool.query(`UPDATE tenants SET ${set}, updated_at = now() WHERE id = $1`, [id]);
  await tenantUpdated(id);
}

const systemAdmin = { subject: 'root', roles: ['system_admin'] };

describe('identification against PostgreSQL and Redis', () => {
  it('exact domain: the tenant with its group and app, read from the central tables', async () => {
    const { principal, scope } = await identify({ host: host('clinic-a') });
    expect(principal).toEqual({ kind: 'anonymous' });
    expect(scope.level).toBe('TENANT');
    const chain = scope as Extract<TenantChain, { level: 'TENANT' }>;
    expect(chain.tenant).toMatchObject({
      id: ids.clinicA,
      level: 'TENANT',
      parentId: ids.group,
      slug: slug('clinic-a'),
      status: 'ACTIVE',
      isolation: 'DATABASE',
      databaseName: `tenant_k_clinic_a_${suffix}`,
      maintenance: false,
      deletedAt: null,
    });
    expect(chain.group.id).toBe(ids.group);
    expect(chain.app.id).toBe(ids.app);
    expect(await targetSlug({ host: `www.${host('clinic-a')}` })).toBe(slug('clinic-a'));
    expect(await targetSlug({ host: host('group') })).toBe(slug('group'));
  });

  it('never caches credentials in Redis', async () => {
    const fresh = await newDirectory();
    const chain = await fresh.findById(ids.clinicA);
    expect(JSON.stringify(chain)).not.toContain('SECRET-CIPHERTEXT');
    const raw = await redisClients[0]!.get(directoryEntryKey({ by: 'id', value: ids.clinicA }));
    expect(raw).toContain(ids.clinicA);
    expect(raw).not.toContain('SECRET-CIPHERTEXT');
    expect(raw).not.toContain('Ciphertext');
  });

  it('subdomain of the central domain', async () => {
    expect(await targetSlug({ host: `${slug('clinic-b')}.tg.test` })).toBe(slug('clinic-b'));
    expect(await targetSlug({ host: `${slug('group2')}.tg.test` })).toBe(slug('group2'));
  });

  it('central hosts: central scope', async () => {
    expect(await targetSlug({ host: 'localhost' })).toBe('CENTRAL');
    expect(await targetSlug({ host: 'api.tg.test', token: systemAdmin })).toBe('CENTRAL');
  });

  it('unknown hosts: TENANT_NOT_FOUND, and repeated unknown hosts are answered from the cache', async () => {
    await expectCode(identify({ host: `nobody-${suffix}.example.test` }), ErrorCode.TENANT_NOT_FOUND);
    await expectCode(identify({ host: `nobody-${suffix}.tg.test` }), ErrorCode.TENANT_NOT_FOUND);
    const local = await newDirectory(false);
    for (let i = 0; i < 100; i++) expect(await local.findByDomain(`flood-${suffix}.example.test`)).toBeUndefined();
    expect(local.stats().sourceLoads).toBe(1);
  });

  it('X-Tenant: system admin and group admin allowed; a member of another tenant FORBIDDEN', async () => {
    expect(await targetSlug({ token: systemAdmin, tenantHeader: slug('clinic-c') })).toBe(slug('clinic-c'));
    expect(await targetSlug({ token: systemAdmin, tenantHeader: ids.clinicB })).toBe(slug('clinic-b'));
    const groupAdmin = { subject: 'ga', tenantId: ids.group, roles: ['admin'] };
    expect(await targetSlug({ token: groupAdmin, tenantHeader: slug('clinic-a') })).toBe(slug('clinic-a'));
    await expectCode(identify({ token: groupAdmin, tenantHeader: slug('clinic-c') }), ErrorCode.FORBIDDEN);
    const memberOfC = { subject: 'mc', tenantId: ids.clinicC, roles: ['member'] };
    const error = await expectCode(identify({ token: memberOfC, tenantHeader: slug('clinic-a') }), ErrorCode.FORBIDDEN);
    expect((error.extensions.http as { status: number }).status).toBe(403);
    await expectCode(identify({ token: { ...memberOfC, roles: ['admin'] }, tenantHeader: slug('clinic-a') }), ErrorCode.FORBIDDEN);
    await expectCode(identify({ tenantHeader: slug('clinic-a') }), ErrorCode.FORBIDDEN);
  });

  it('token tenant ≠ host tenant: TENANT_MISMATCH', async () => {
    const token = { subject: 'ma', tenantId: ids.clinicA, roles: ['member'] };
    expect(await targetSlug({ host: host('clinic-a'), token })).toBe(slug('clinic-a'));
    expect(await targetSlug({ host: 'localhost', token })).toBe(slug('clinic-a'));
    const error = await expectCode(identify({ host: host('clinic-b'), token }), ErrorCode.TENANT_MISMATCH);
    expect((error.extensions.http as { status: number }).status).toBe(403);
    await expectCode(identify({ host: `${slug('clinic-c')}.tg.test`, token }), ErrorCode.TENANT_MISMATCH);
  });

  it('a token whose tenant no longer exists: UNAUTHENTICATED', async () => {
    await expectCode(identify({ token: { subject: 'x', tenantId: randomUUID(), roles: ['admin'] } }), ErrorCode.UNAUTHENTICATED);
  });

  it('suspended: TENANT_SUSPENDED; system admins pass', async () => {
    const id = await insertTenant('TENANT', 'susp', ids.group, [host('susp')]);
    expect(await targetSlug({ host: host('susp') })).toBe(slug('susp'));
    await changeTenant(id, "status = 'SUSPENDED'");
    await expectCode(identify({ host: host('susp') }), ErrorCode.TENANT_SUSPENDED);
    await expectCode(identify({ host: host('susp'), token: { subject: 'a', tenantId: id, roles: ['admin'] } }), ErrorCode.TENANT_SUSPENDED);
    expect(await targetSlug({ host: host('susp'), token: systemAdmin })).toBe(slug('susp'));
  });

  it('maintenance: TENANT_MAINTENANCE 503 with Retry-After: 60; admins pass', async () => {
    const id = await insertTenant('TENANT', 'maint', ids.group, [host('maint')]);
    await changeTenant(id, "maintenance = true, maintenance_message = 'Upgrading, back soon'");
    const error = await expectCode(identify({ host: host('maint'), token: { subject: 'm', tenantId: id, roles: ['member'] } }), ErrorCode.TENANT_MAINTENANCE);
    expect(error.message).toBe('Upgrading, back soon');
    const http = error.extensions.http as { status: number; headers: Map<string, string> };
    expect(http.status).toBe(503);
    expect(http.headers.get('Retry-After')).toBe('60');
    expect(await targetSlug({ host: host('maint'), token: { subject: 'a', tenantId: id, roles: ['admin'] } })).toBe(slug('maint'));
    expect(await targetSlug({ token: { subject: 'ga', tenantId: ids.group, roles: ['admin'] }, tenantHeader: slug('maint') })).toBe(slug('maint'));
    expect(await targetSlug({ host: host('maint'), token: systemAdmin })).toBe(slug('maint'));
  });

  it('deleted (soft) or not yet provisioned: TENANT_NOT_FOUND', async () => {
    const deleted = await insertTenant('TENANT', 'gone', ids.group, [host('gone')]);
    expect(await targetSlug({ host: host('gone') })).toBe(slug('gone'));
    await changeTenant(deleted, 'deleted_at = now()');
    await expectCode(identify({ host: host('gone') }), ErrorCode.TENANT_NOT_FOUND);
    await expectCode(identify({ host: host('gone'), token: systemAdmin }), ErrorCode.TENANT_NOT_FOUND);
    await expectCode(identify({ token: { subject: 'g', tenantId: deleted, roles: ['admin'] } }), ErrorCode.TENANT_NOT_FOUND);
    const provisioning = await insertTenant('TENANT', 'prov', ids.group, [host('prov')]);
    await changeTenant(provisioning, "status = 'PROVISIONING'");
    await expectCode(identify({ host: host('prov') }), ErrorCode.TENANT_NOT_FOUND);
  });

  it('LRU hits cost no Redis round trip; another process gets the entry from Redis, not PostgreSQL', async () => {
    const first = await newDirectory();
    const second = await newDirectory();
    await first.findByDomain(host('clinic-b')); // loads from PostgreSQL (or Redis) and fills Redis
    const before = second.stats();
    expect(await second.findByDomain(host('clinic-b'))).toMatchObject({ level: 'TENANT' });
    const after = second.stats();
    expect(after.redisHits - before.redisHits).toBe(1);
    expect(after.sourceLoads - before.sourceLoads).toBe(0);
    const get = vi.spyOn(redisClients.at(-1)!, 'get');
    for (let i = 0; i < 100; i++) await second.findByDomain(host('clinic-b'));
    expect(get).not.toHaveBeenCalled();
    get.mockRestore();
  });

  it('a domain moved in one process is seen by another within 1 s (Redis pub/sub)', async () => {
    const processA = await newDirectory();
    const processB = await newDirectory();
    const moving = `moving-${suffix}.example.test`;
    await pool.query('INSERT INTO domains (tenant_id, domain) VALUES ($1, $2)', [ids.clinicA, moving]);
    await tenantUpdated(ids.clinicA, processA);
    // Both processes have the domain cached (B's LRU is warm).
    expect(chainTarget((await processA.findByDomain(moving))!).id).toBe(ids.clinicA);
    expect(chainTarget((await processB.findByDomain(moving))!).id).toBe(ids.clinicA);
    expect(chainTarget((await processB.findByDomain(moving))!).id).toBe(ids.clinicA);

    await pool.query('UPDATE domains SET tenant_id = $1, updated_at = now() WHERE domain = $2', [ids.clinicB, moving]);
    const started = performance.now();
    await tenantUpdated(ids.clinicA, processA);
    let seenAfter: number | undefined;
    while (performance.now() - started < 5_000) {
      const chain = await processB.findByDomain(moving);
      if (chain && chainTarget(chain).id === ids.clinicB) {
        seenAfter = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(seenAfter).toBeDefined();
    expect(seenAfter!).toBeLessThan(1_000);
    // And identification follows: the host now serves clinic B.
    expect(chainTarget((await identify({ host: moving }, processB)).scope as TenantChain).id).toBe(ids.clinicB);
  });

  it('without Redis the directory and events are in-process only, and an event still clears it', async () => {
    const local = await newDirectory(false);
    const name = `local-${suffix}.example.test`;
    expect(await local.findByDomain(name)).toBeUndefined();
    await pool.query('INSERT INTO domains (tenant_id, domain) VALUES ($1, $2)', [ids.clinicC, name]);
    expect(await local.findByDomain(name)).toBeUndefined(); // the miss is cached
    await tenantUpdated(ids.clinicC, local);
    expect(chainTarget((await local.findByDomain(name))!).id).toBe(ids.clinicC);
  });
});

describe('PgTenantSource', () => {
  it('answers lookups that arrive together with one statement per kind, each caller its own chain', async () => {
    const statements: string[] = [];
    const counting = { query: (sql: string, params: unknown[]) => (statements.push(sql), pool.query(sql, params)) } as unknown as Pick<typeof pool, 'query'>;
    const source = new PgTenantSource(counting);
    const unknown = randomUUID();
    const [a, b, group, missing, bySlug, byDomain, aAgain, noSlug] = await Promise.all([
      source.find({ by: 'id', value: ids.clinicA }),
      source.find({ by: 'id', value: ids.clinicB.toUpperCase() }),
      source.find({ by: 'id', value: ids.group }),
      source.find({ by: 'id', value: unknown }),
      source.find({ by: 'slug', value: slug('clinic-b') }),
      source.find({ by: 'domain', value: `www.${host('clinic-a')}` }),
      source.find({ by: 'id', value: ids.clinicA }),
      source.find({ by: 'slug', value: `nobody-${suffix}` }),
    ]);
    expect(statements).toHaveLength(3);
    expect(chainTarget(a!).id).toBe(ids.clinicA);
    expect(a).toMatchObject({ level: 'TENANT', group: { id: ids.group }, app: { id: ids.app } });
    expect(chainTarget(b!).id).toBe(ids.clinicB);
    expect(group).toMatchObject({ level: 'CENTRAL_TENANT', group: { id: ids.group }, app: { id: ids.app } });
    expect(missing).toBeUndefined();
    expect(chainTarget(bySlug!).id).toBe(ids.clinicB);
    expect(chainTarget(byDomain!).id).toBe(ids.clinicA);
    expect(aAgain).toEqual(a);
    expect(noSlug).toBeUndefined();

    // Apart in time, apart in statements; a failing statement fails the lookups that shared it, not later ones.
    expect(chainTarget((await source.find({ by: 'id', value: ids.clinicB }))!).id).toBe(ids.clinicB);
    expect(statements).toHaveLength(4);
    let fail = true;
    const flaky = new PgTenantSource({ query: (sql: string, params: unknown[]) => (fail ? Promise.reject(new Error('central down')) : pool.query(sql, params)) } as unknown as Pick<typeof pool, 'query'>);
    const failed = await Promise.allSettled([flaky.find({ by: 'id', value: ids.clinicA }), flaky.find({ by: 'id', value: ids.clinicB })]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(chainTarget((await flaky.find({ by: 'id', value: ids.clinicA }))!).id).toBe(ids.clinicA);
  });
});

describe('tenancy events start-up', () => {
  it('fails with a clear message when Redis is unreachable', async () => {
    const dead = openRedis('redis://127.0.0.1:1', logger, { name: 'dead' });
    try {
      await expect(openTenancyEvents({ redis: dead, logger })).rejects.toThrow(/Cannot subscribe to tenancy events in Redis: .*Check REDIS_URL/);
    } finally {
      dead.disconnect();
    }
  });
});

describe('development JWT secret', () => {
  it('is created once (48 random bytes, mode 0600) and shared by every caller', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tg-jwt-'));
    try {
      const devSecretPath = path.join(dir, '.data', 'dev-jwt-secret');
      const devConfig = parseConfig({ NODE_ENV: 'development' });
      const secrets = await Promise.all([1, 2, 3].map(() => resolveJwtSecret(devConfig, { devSecretPath })));
      expect(new Set(secrets).size).toBe(1);
      expect(Buffer.from(secrets[0]!, 'base64')).toHaveLength(48);
      expect((await stat(devSecretPath)).mode & 0o777).toBe(0o600);
      // The CLI and the server, each loading keys, accept each other's tokens.
      const cliKeys = await loadAccessTokenKeys(devConfig, { devSecretPath });
      const serverKeys = await loadAccessTokenKeys(devConfig, { devSecretPath });
      const token = await mintAccessToken(cliKeys, { subject: 'dev', roles: ['admin'] });
      const result = await identifyRequest(
        { host: 'localhost', authorization: `Bearer ${token}`, tenantHeader: undefined },
        { directory, identifiers: makeIdentifiers(devConfig.tenancy), tokens: serverKeys },
      );
      expect(result.principal).toMatchObject({ kind: 'user', subject: 'dev' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('JWT_SECRET wins over the file', async () => {
    expect(await resolveJwtSecret(config, { devSecretPath: '/nonexistent/never-read' })).toBe('integration-secret-integration-secret-0123456789');
  });
});
