/**
 * Plans, subscriptions, quotas and module switches over real HTTP: plan CRUD by system admins
 * only with every bad field named; changePlan by ancestors' admins; an expired subscription
 * refuses mutations (SUBSCRIPTION_EXPIRED) but serves reads; maxPatients holds under 20
 * concurrent creates; disableModule/enableModule switch a module's fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedTenant } from '../../src/tenancy/provisioning/provision-tenant.js';
import { startTestApp, uniqueKey, type TestApp } from '../helpers/app.js';
import { makeClinic, makeHierarchy, type Hierarchy } from '../helpers/tenants.js';

type Errors = { body: { errors?: { message: string; extensions?: Record<string, unknown> }[] } };

let app: TestApp;
let hierarchy: Hierarchy;
let foreign: Hierarchy;
let clinic: ProvisionedTenant;
let quotaClinic: ProvisionedTenant;
const planIds: string[] = [];
const auth = {} as Record<'system' | 'group' | 'foreignGroup' | 'clinic' | 'quotaClinic' | 'member', Record<string, string>>;

const bearer = async (tenantId: string | null, roles: string[]) => ({ authorization: `Bearer ${await app.token({ subject: `u-${roles.join()}-${tenantId}`, tenantId, roles })}` });
const code = (result: Errors) => result.body.errors?.[0]?.extensions?.code;
const CREATE_PLAN = 'mutation($input: CreatePlanInput!) { createPlan(input: $input) { id key modules trialDays limits { maxPatients } } }';
const CHANGE_PLAN = 'mutation($t: ID!, $p: String!) { changePlan(tenantId: $t, planKey: $p) { status planKey trialEndsAt } }';
const CREATE_PATIENT = 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }';
const PATIENTS = '{ patients { edges { node { mrn } } } }';
const VISITS = '{ visits(year: 2026) { id } }';

async function createPlan(input: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const result = await app.gql<{ createPlan: { id: string; key: string } }>(CREATE_PLAN, { input }, auth.system);
  expect(result.body.errors).toBeUndefined();
  planIds.push(result.body.data!.createPlan.id);
  return result.body.data!.createPlan;
}

beforeAll(async () => {
  app = await startTestApp();
  hierarchy = await makeHierarchy(app.tenancy, 1);
  foreign = await makeHierarchy(app.tenancy, 1);
  clinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'SCHEMA', { clusterYears: [] });
  quotaClinic = await makeClinic(app.tenancy, hierarchy.groups[0]!, 'DATABASE', { clusterYears: [] });
  auth.system = await bearer(null, ['system_admin']);
  auth.group = await bearer(hierarchy.groups[0]!.id, ['admin']);
  auth.foreignGroup = await bearer(foreign.groups[0]!.id, ['admin']);
  auth.clinic = await bearer(clinic.id, ['admin']);
  auth.quotaClinic = await bearer(quotaClinic.id, ['admin']);
  auth.member = await bearer(clinic.id, ['member']);
});
afterAll(async () => {
  if (app && planIds.length > 0) {
    await app.central.pool.query('DELETE FROM subscriptions WHERE plan_id = ANY($1::uuid[])', [planIds]);
    await app.central.pool.query('UPDATE tenants SET plan_id = NULL WHERE plan_id = ANY($1::uuid[])', [planIds]);
    await app.central.pool.query('DELETE FROM plans WHERE id = ANY($1::uuid[])', [planIds]);
  }
  await app?.stop();
});

describe('plan catalogue', () => {
  it('creates and updates plans for system admins only; lists them for administrators', async () => {
    const key = uniqueKey('basic');
    const input = { key, name: 'Basic', modules: ['emr'], limits: { maxPatients: 5 }, trialDays: 0 };
    expect(code(await app.gql(CREATE_PLAN, { input }, {}))).toBe('UNAUTHENTICATED');
    expect(code(await app.gql(CREATE_PLAN, { input }, auth.group))).toBe('FORBIDDEN');
    const made = await createPlan(input);
    expect(made).toMatchObject({ key, modules: ['emr'], limits: { maxPatients: 5 }, trialDays: 0 });
    expect(code(await app.gql(CREATE_PLAN, { input }, auth.system))).toBe('CONFLICT');

    const updated = await app.gql<{ updatePlan: { modules: string[]; limits: { maxPatients: number | null } } }>(
      'mutation($k: String!, $i: UpdatePlanInput!) { updatePlan(key: $k, input: $i) { modules limits { maxPatients } } }',
      { k: key, i: { modules: ['emr', 'pos'], limits: { maxPatients: 7 } } },
      auth.system,
    );
    expect(updated.body.data?.updatePlan).toEqual({ modules: ['emr', 'pos'], limits: { maxPatients: 7 } });
    expect(code(await app.gql('mutation { updatePlan(key: "x", input: { name: "n" }) { key } }', {}, auth.group))).toBe('FORBIDDEN');
    expect(code(await app.gql('mutation { updatePlan(key: "no_such_plan", input: { name: "n" }) { key } }', {}, auth.system))).toBe('NOT_FOUND');

    const listed = await app.gql<{ plans: { key: string }[] }>('{ plans { key modules } }', {}, auth.group);
    expect(listed.body.data?.plans.map((plan) => plan.key)).toContain(key);
    expect(code(await app.gql('{ plans { key } }', {}, auth.member))).toBe('FORBIDDEN');
    expect(code(await app.gql('{ plans { key } }', {}, {}))).toBe('UNAUTHENTICATED');
  });

  it('names every bad field at once and stores nothing', async () => {
    const key = uniqueKey('bad');
    const result = await app.gql(CREATE_PLAN, { input: { key: 'Bad Key!', name: ' ', modules: ['emr', 'crm'], limits: { maxPatients: -1 }, trialDays: 9999 } }, auth.system);
    expect(code(result)).toBe('BAD_USER_INPUT');
    const fields = (result.body.errors?.[0]?.extensions?.fields as { field: string }[]).map((problem) => problem.field).sort();
    expect(fields).toEqual(['key', 'limits.maxPatients', 'modules.1', 'name', 'trialDays']);
    const update = await app.gql('mutation($i: UpdatePlanInput!) { updatePlan(key: "x", input: $i) { key } }', { i: { modules: ['nope'], trialDays: -1 } }, auth.system);
    expect(code(update)).toBe('BAD_USER_INPUT');
    expect((await app.central.pool.query('SELECT 1 FROM plans WHERE key = $1', [key])).rowCount).toBe(0);
  });
});

describe('changePlan and subscriptions', () => {
  it('lets system admins and ancestors\' admins change a plan, recording TRIALING or ACTIVE', async () => {
    const trial = await createPlan({ key: uniqueKey('trial'), name: 'Trial', trialDays: 14 });
    const paid = await createPlan({ key: uniqueKey('paid'), name: 'Paid' });
    expect(code(await app.gql(CHANGE_PLAN, { t: clinic.id, p: trial.key }, auth.foreignGroup))).toBe('NOT_FOUND');
    expect(code(await app.gql(CHANGE_PLAN, { t: clinic.id, p: trial.key }, auth.clinic))).toBe('NOT_FOUND');
    expect(code(await app.gql(CHANGE_PLAN, { t: clinic.id, p: trial.key }, auth.member))).toBe('FORBIDDEN');
    expect(code(await app.gql(CHANGE_PLAN, { t: clinic.id, p: 'no_such_plan' }, auth.system))).toBe('BAD_USER_INPUT');

    const trialing = await app.gql<{ changePlan: { status: string; trialEndsAt: string | null } }>(CHANGE_PLAN, { t: clinic.id, p: trial.key }, auth.group);
    expect(trialing.body.data?.changePlan.status).toBe('TRIALING');
    const days = (new Date(trialing.body.data!.changePlan.trialEndsAt!).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    const active = await app.gql<{ changePlan: { status: string } }>(CHANGE_PLAN, { t: clinic.id, p: paid.key }, auth.system);
    expect(active.body.data?.changePlan.status).toBe('ACTIVE');
    const { rows } = await app.central.pool.query('SELECT status FROM subscriptions WHERE tenant_id = $1 ORDER BY created_at', [clinic.id]);
    expect(rows.map((row) => row.status)).toEqual(['CANCELED', 'ACTIVE']);
    const tenant = await app.central.pool.query('SELECT plan_id FROM tenants WHERE id = $1', [clinic.id]);
    expect(tenant.rows[0].plan_id).toBe(paid.id);
  });

  it('an expired subscription refuses mutations with SUBSCRIPTION_EXPIRED (402) and still serves reads; changePlan renews', async () => {
    const paid = await createPlan({ key: uniqueKey('exp'), name: 'Expiring' });
    expect((await app.gql(CHANGE_PLAN, { t: clinic.id, p: paid.key }, auth.group)).body.errors).toBeUndefined();
    expect((await app.gql(CREATE_PATIENT, { input: { mrn: 'e-1', firstName: 'A', lastName: 'B' } }, auth.clinic)).body.errors).toBeUndefined();

    await app.central.pool.query(`UPDATE subscriptions SET ends_at = now() - interval '1 minute' WHERE tenant_id = $1 AND status = 'ACTIVE'`, [clinic.id]);
    await app.tenancy.events.publish({ type: 'TenantUpdated', tenantId: clinic.id });
    const refused = await app.gql(CREATE_PATIENT, { input: { mrn: 'e-2', firstName: 'A', lastName: 'B' } }, auth.clinic);
    expect(code(refused)).toBe('SUBSCRIPTION_EXPIRED');
    expect(refused.status).toBe(402);
    const read = await app.gql<{ patients: { edges: { node: { mrn: string } }[] } }>(PATIENTS, {}, auth.clinic);
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data?.patients.edges.map((edge) => edge.node.mrn)).toEqual(['e-1']);

    // A canceled subscription is as read-only as an expired one.
    expect((await app.gql(CHANGE_PLAN, { t: clinic.id, p: paid.key }, auth.group)).body.errors).toBeUndefined();
    expect((await app.gql(CREATE_PATIENT, { input: { mrn: 'e-3', firstName: 'A', lastName: 'B' } }, auth.clinic)).body.errors).toBeUndefined();
    await app.central.pool.query(`UPDATE subscriptions SET status = 'CANCELED' WHERE tenant_id = $1`, [clinic.id]);
    await app.tenancy.events.publish({ type: 'TenantUpdated', tenantId: clinic.id });
    expect(code(await app.gql(CREATE_PATIENT, { input: { mrn: 'e-4', firstName: 'A', lastName: 'B' } }, auth.clinic))).toBe('SUBSCRIPTION_EXPIRED');

    // A new plan starts a new subscription; writes work again.
    expect((await app.gql(CHANGE_PLAN, { t: clinic.id, p: paid.key }, auth.group)).body.errors).toBeUndefined();
    expect((await app.gql(CREATE_PATIENT, { input: { mrn: 'e-5', firstName: 'A', lastName: 'B' } }, auth.clinic)).body.errors).toBeUndefined();
  });
});

describe('plan limits', () => {
  it('holds maxPatients under 20 concurrent creates: exactly the limit succeed, the rest QUOTA_EXCEEDED', async () => {
    const limited = await createPlan({ key: uniqueKey('quota'), name: 'Quota', limits: { maxPatients: 7 } });
    expect((await app.gql(CHANGE_PLAN, { t: quotaClinic.id, p: limited.key }, auth.system)).body.errors).toBeUndefined();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => app.gql(CREATE_PATIENT, { input: { mrn: `q-${i}`, firstName: 'Q', lastName: `N${i}` } }, auth.quotaClinic)),
    );
    const succeeded = results.filter((result) => !result.body.errors);
    const refused = results.filter((result) => code(result) === 'QUOTA_EXCEEDED');
    expect([succeeded.length, refused.length]).toEqual([7, 13]);
    expect(refused[0]!.body.errors![0]!.extensions).toMatchObject({ limit: 'maxPatients', max: 7, actual: 7 });
    const listed = await app.gql<{ patients: { edges: unknown[] } }>('{ patients(first: 100) { edges { node { id } } } }', {}, auth.quotaClinic);
    expect(listed.body.data?.patients.edges).toHaveLength(7);
  });
});

describe('module switches', () => {
  it('disableModule makes the module FORBIDDEN (naming it) for that tenant only; enableModule restores it', async () => {
    const sibling = quotaClinic;
    const visits = (who: Record<string, string>) => app.gql(VISITS, {}, who);
    expect((await visits(auth.clinic)).body.errors).toBeUndefined();
    const disable = 'mutation($t: ID!, $m: String!) { disableModule(tenantId: $t, module: $m) }';
    const enable = 'mutation($t: ID!, $m: String!) { enableModule(tenantId: $t, module: $m) }';
    expect(code(await app.gql(disable, { t: clinic.id, m: 'emr' }, auth.foreignGroup))).toBe('NOT_FOUND');
    expect(code(await app.gql(disable, { t: clinic.id, m: 'crm' }, auth.group))).toBe('BAD_USER_INPUT');
    const off = await app.gql<{ disableModule: string[] }>(disable, { t: clinic.id, m: 'emr' }, auth.group);
    expect(off.body.data?.disableModule).not.toContain('emr');

    const refused = await visits(auth.clinic);
    expect(code(refused)).toBe('FORBIDDEN');
    expect(refused.body.errors?.[0]?.message).toContain('EMR');
    expect(refused.body.errors?.[0]?.extensions?.module).toBe('emr');
    expect((await visits(auth.quotaClinic)).body.errors).toBeUndefined(); // the sibling keeps its module
    expect(sibling.id).not.toBe(clinic.id);

    const on = await app.gql<{ enableModule: string[] }>(enable, { t: clinic.id, m: 'emr' }, auth.system);
    expect(on.body.data?.enableModule).toContain('emr');
    expect((await visits(auth.clinic)).body.errors).toBeUndefined();
  });
});
