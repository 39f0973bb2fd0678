/**
 * The domain and plan commands as separate processes against a real central database: each
 * acts through the same service as the GraphQL mutations, prints JSON a script can read, never
 * prints a domain's verification token, and exits 0 done / 1 failed / 2 bad usage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { makeClinic, makeHierarchy } from '../helpers/tenants.js';

let app: TestApp;
let clinic: ProvisionedTenant & { domain: string };
let sibling: ProvisionedTenant & { domain: string };
const planKey = uniqueKey('cliplan').replace(/_/g, '-');

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & { ok: boolean };

beforeAll(async () => {
  app = await startTestApp({ WORKER: 'false' });
  const hierarchy = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  sibling = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
});
afterAll(async () => {
  if (app) {
    await app.central.pool.query('DELETE FROM subscriptions WHERE plan_id IN (SELECT id FROM plans WHERE key = $1)', [planKey]);
    await app.central.pool.query('UPDATE tenants SET plan_id = NULL WHERE plan_id IN (SELECT id FROM plans WHERE key = $1)', [planKey]);
    await app.central.pool.query('DELETE FROM plans WHERE key = $1', [planKey]);
  }
  await app?.stop();
});

describe('plans:* and tenants:plan|module', () => {
  it('creates, refuses bad or duplicate plans, updates, lists, and moves a tenant onto a plan', async () => {
    const created = await runCli(['plans:create', '--key', planKey, '--name', 'CLI plan', '--modules', 'emr,scm', '--max-patients', '3', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(json(created.stdout)).toMatchObject({ ok: true, plan: { key: planKey, modules: ['emr', 'scm'], limits: { maxPatients: 3 }, trialDays: 0 } });

    const duplicate = await runCli(['plans:create', '--key', planKey, '--name', 'Again', '--json']);
    expect(duplicate.code).toBe(1);
    expect(json(duplicate.stdout)).toMatchObject({ ok: false, code: 'CONFLICT', field: 'key' });
    const badModule = await runCli(['plans:create', '--key', `${planKey}-x`, '--name', 'Bad', '--modules', 'emr,crm', '--json']);
    expect(badModule.code).toBe(2);
    expect(json(badModule.stdout)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT' });
    expect((await app.central.pool.query('SELECT 1 FROM plans WHERE key = $1', [`${planKey}-x`])).rowCount).toBe(0);

    const updated = await runCli(['plans:update', '--key', planKey, '--max-patients', 'none', '--trial-days', '14', '--json']);
    expect(updated.code, updated.stdout + updated.stderr).toBe(0);
    expect(json(updated.stdout)).toMatchObject({ ok: true, plan: { key: planKey, limits: {}, trialDays: 14 } });
    const listed = await runCli(['plans:list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(planKey);

    const moved = await runCli(['tenants:plan', '--tenant', clinic.slug, '--plan', planKey, '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(json(moved.stdout)).toMatchObject({ ok: true, subscription: { tenantId: clinic.id, planKey, status: 'TRIALING' } });
    const row = await app.central.pool.query<{ key: string }>('SELECT p.key FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1', [clinic.id]);
    expect(row.rows[0]?.key).toBe(planKey);
    // The sibling is untouched.
    expect((await app.central.pool.query('SELECT plan_id FROM tenants WHERE id = $1', [sibling.id])).rows[0].plan_id).toBeNull();
  });

  it('switches a module for one tenant, and refuses an unknown module, a missing tenant and both switches at once', async () => {
    const disabled = await runCli(['tenants:module', '--tenant', clinic.slug, '--disable', 'emr', '--json']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect((json(disabled.stdout).modules as string[]).includes('emr')).toBe(false);
    expect((await runCli(['tenants:module', '--tenant', clinic.slug, '--disable', 'crm'])).code).toBe(2);
    expect((await runCli(['tenants:module', '--tenant', clinic.slug, '--enable', 'emr', '--disable', 'pos'])).code).toBe(2);
    expect((await runCli(['tenants:module', '--tenant', 'no-such-tenant', '--enable', 'emr'])).code).toBe(2);
  });
});

describe('domains:*', () => {
  it('adds (unverified), refuses a taken domain, verifies, lists, and removes; never prints the verification token', async () => {
    const host = `${uniqueKey('cli').replace(/_/g, '-')}.example.test`;
    const added = await runCli(['domains:add', '--tenant', clinic.slug, '--domain', host, '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(json(added.stdout)).toMatchObject({ ok: true, domain: { domain: host, tenantId: clinic.id, isVerified: false, isPrimary: false } });
    const token = (await app.central.pool.query<{ t: string }>('SELECT verification_token AS t FROM domains WHERE domain = $1', [host])).rows[0]!.t;
    expect(added.stdout + added.stderr).not.toContain(token);

    const taken = await runCli(['domains:add', '--tenant', sibling.slug, '--domain', host, '--json']);
    expect(taken.code).toBe(1);
    expect(json(taken.stdout)).toMatchObject({ ok: false, code: 'CONFLICT', field: 'domain' });
    expect((await runCli(['domains:add', '--tenant', clinic.slug, '--domain', 'not a host'])).code).toBe(2);

    const verified = await runCli(['domains:verify', '--domain', host, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(json(verified.stdout)).toMatchObject({ ok: true, domain: { domain: host, isVerified: true } });
    expect(verified.stdout).not.toContain(token);

    const primary = await runCli(['domains:primary', '--domain', host, '--json']);
    expect(json(primary.stdout)).toMatchObject({ ok: true, domain: { isPrimary: true } });
    const listed = await runCli(['domains:list', '--tenant', clinic.slug, '--json']);
    const domains = json(listed.stdout).domains as { domain: string; tenant: string; isPrimary: boolean; isVerified: boolean }[];
    expect(domains.map((d) => d.domain).sort()).toEqual([clinic.domain, host].sort());
    expect(domains.every((d) => d.tenant === clinic.slug)).toBe(true);
    expect(domains.find((d) => d.domain === host)).toMatchObject({ isPrimary: true, isVerified: true });

    const removed = await runCli(['domains:remove', '--domain', host, '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await app.central.pool.query('SELECT 1 FROM domains WHERE domain = $1', [host])).rowCount).toBe(0);
    // The old primary took over again; the sibling's domain is untouched.
    expect((await app.central.pool.query('SELECT is_primary FROM domains WHERE domain = $1', [clinic.domain])).rows[0].is_primary).toBe(true);
    expect((await app.central.pool.query('SELECT 1 FROM domains WHERE domain = $1', [sibling.domain])).rowCount).toBe(1);
    expect((await runCli(['domains:verify', '--domain', host])).code).toBe(2);
  });
});
