/**
 * Drives a tenant's provisioning: runs the latest attempt's steps, records each, undoes on failure,
 * and finishes what a dead process left.
 *
 * Who owns an attempt is a session-level advisory lock on the tenant (`tenantgraph:provision:<id>`),
 * held on its own connection for the whole attempt. PostgreSQL ends the lock with the session, so
 * when a process is SIGKILLed its attempts become free at once — no lease to renew, no expiry to
 * wait out. A run found RUNNING or UNDOING with its lock free was therefore interrupted: it is
 * undone, then (RUNNING) tried again as a new attempt, up to MAX_INTERRUPTED_ATTEMPTS.
 *
 * The pg-boss job, a kick from the process that created the tenant, and the periodic recovery may
 * all call `drive` for the same tenant; the lock makes the extra callers return at once.
 *
 * A lock session can end while its process lives on (the server or a pooler ends that one
 * connection): the owner then finds out only at its next step, and the step it is running goes on
 * meanwhile. So the owner also holds a second lock for as long as it runs steps, the work lock,
 * on a session of its own, and a new owner waits for it before undoing or starting anything: it
 * takes over once the old owner's step has ended and the old owner has stopped (at its next check).
 * Left: if both sessions end while the process lives, its step in flight can still race the new owner.
 */
import { takeOwnership, type HeldLock } from '../../infra/advisory-lock.js';
import { inTransaction } from '../../infra/db-transaction.js';
import { type Tenancy } from '../tenancy.js';
import { type ProvisionedTenant } from './provision-tenant.js';
import { type SchemaSpares } from './schema-spares.js';
import { insertRun, latestRun, markStep, markUndone, saveRunState, setRunStatus, startRun, type RunRow } from './provisioning-runs.js';
import { stepsFor, undoProvisioning, type Step, type StepContext } from './provisioning-steps.js';

/** Attempts after which an interrupted provisioning is left FAILED instead of started again. */
const MAX_INTERRUPTED_ATTEMPTS = 3;

export type DriveResult = { outcome: 'ACTIVE' | 'FAILED' | 'busy' | 'nothing'; error?: unknown };

export type DriverDeps = {
  tenancy: Tenancy;
  spares?: SchemaSpares;
  runSeeders?: (tenantId: string, seeders: readonly string[]) => Promise<void>;
  queueDomainCheck(domainId: string): Promise<void>;
  /** Tests only: sleep before these steps (PROVISIONING_TEST_STEP_DELAY). */
  stepDelayMs?: Readonly<Record<string, number>>;
};

export const provisionLockKey = (tenantId: string) => `tenantgraph:provision:${tenantId}`;
/** Held by whoever runs the tenant's provisioning steps (see above). */
export const provisionWorkLockKey = (tenantId: string) => `tenantgraph:provision-work:${tenantId}`;

export async function driveProvisioning(deps: DriverDeps, tenantId: string): Promise<DriveResult> {
  const { tenancy } = deps;
  const lock = await takeOwnership(tenancy.central, provisionLockKey(tenantId), provisionWorkLockKey(tenantId));
  if (lock === 'owned') return { outcome: 'busy' };
  if (lock === 'finishing') {
    tenancy.logger.warn({ tenantId }, 'the previous owner of this provisioning is still finishing a step; trying again later');
    return { outcome: 'busy' };
  }
  try {
    for (;;) {
      const run = await latestRun(tenancy.central, tenantId);
      if (!run || run.status === 'ACTIVE' || run.status === 'FAILED') return { outcome: 'nothing' };
      const record = await loadRecord(tenancy, tenantId);
      if (!record) return { outcome: 'nothing' };
      if (run.status === 'PENDING') return await execute(deps, run, record, lock);
      // RUNNING or UNDOING with the lock free: the process that ran it died.
      tenancy.logger.warn({ tenantId, attempt: run.attempt, status: run.status }, 'taking over an interrupted provisioning');
      const interrupted = run.status === 'RUNNING';
      const failed = await undo(deps, run, record, interrupted ? 'interrupted: the process running it stopped' : null);
      if (failed || !interrupted || run.attempt >= MAX_INTERRUPTED_ATTEMPTS) {
        await fail(tenancy, run, record, run.error ?? 'interrupted too often: the process running it stopped');
        return { outcome: 'FAILED' };
      }
      await setRunStatus(tenancy.central, run.id, 'FAILED');
      await insertRun(tenancy.central, tenantId, run.attempt + 1, run.input);
    }
  } finally {
    await lock();
  }
}

async function execute(deps: DriverDeps, run: RunRow, record: ProvisionedTenant, lock: HeldLock): Promise<DriveResult> {
  const { tenancy } = deps;
  const steps = stepsFor(record, run.input);
  await startRun(
    tenancy.central,
    run.id,
    steps.map((step) => step.name),
  );
  // A later attempt starts from nothing: whatever an earlier one left (its undo failed, e.g. a server was down) goes first.
  if (run.attempt > 1) {
    try {
      await undoProvisioning(tenancy, record, run.state);
    } catch (error) {
      await fail(tenancy, run, record, `cleanup before attempt ${run.attempt}: ${describeError(error)}`);
      return { outcome: 'FAILED', error };
    }
  }
  await tenancy.events.publish({ type: 'ProvisioningTenant', tenantId: record.id });
  const state = { ...run.state };
  // The steps share one admin pool on the tenant's database, closed before any undo (which drops that database).
  const failure = await tenancy
    .strategyFor(record)
    .withStoragePool(record, (storagePool) =>
      runSteps(deps, run, record, steps, lock, {
        tenancy,
        runId: run.id,
        spares: deps.spares,
        record,
        storagePool,
        input: run.input,
        state,
        saveState: async (patch) => {
          Object.assign(state, patch);
          await saveRunState(tenancy.central, run.id, patch);
        },
        runSeeders: deps.runSeeders,
        queueDomainCheck: deps.queueDomainCheck,
      }),
    )
    .catch((error: unknown): StepFailure => ({ step: steps[0]!.name, message: describeError(error), error })); // e.g. its server's admin could not be loaded
  if (failure?.lockLost) {
    // Another worker may have taken the attempt over already: undoing here could remove what it makes.
    tenancy.logger.warn({ tenantId: record.id, attempt: run.attempt, step: failure.step }, 'lost the provisioning lock; leaving the attempt to whoever takes it over');
    return { outcome: 'busy' };
  }
  if (failure) {
    const undoFailed = await undo(deps, { ...run, state }, record, `${failure.step}: ${failure.message}`);
    await fail(
      tenancy,
      run,
      record,
      undoFailed ? `${failure.step}: ${failure.message} (cleanup incomplete: ${undoFailed}; retryProvisioning cleans up first)` : `${failure.step}: ${failure.message}`,
    );
    return { outcome: 'FAILED', error: failure.error };
  }
  return { outcome: 'ACTIVE' };
}

type StepFailure = { step: string; message: string; error: unknown; lockLost?: boolean };

/**
 * Runs the steps in order (neighbours marked `concurrent` side by side), recording each; stops at
 * the first failure and answers it (undo is the caller's, once every step started has ended).
 * Before each step it checks that its lock session still lives: a session lost while this process
 * runs (a network cut, the server ending it) frees the attempt for recovery elsewhere.
 */
async function runSteps(
  deps: DriverDeps,
  run: RunRow,
  record: ProvisionedTenant,
  steps: readonly Step[],
  lock: HeldLock,
  context: StepContext,
): Promise<StepFailure | undefined> {
  for (const batch of batchesOf(steps)) {
    const failures = (await Promise.all(batch.map((step) => runStep(deps, run, record, step, lock, context)))).filter((failure) => failure !== undefined);
    if (failures.length > 0) return failures.find((failure) => failure.lockLost) ?? failures[0];
  }
  return undefined;
}

/** Consecutive steps marked `concurrent` form one batch; every other step is a batch of its own. */
function batchesOf(steps: readonly Step[]): Step[][] {
  const batches: Step[][] = [];
  for (const step of steps) {
    const last = batches.at(-1);
    if (step.concurrent && last?.[0]?.concurrent) last.push(step);
    else batches.push([step]);
  }
  return batches;
}

async function runStep(deps: DriverDeps, run: RunRow, record: ProvisionedTenant, step: Step, lock: HeldLock, context: StepContext): Promise<StepFailure | undefined> {
  const { tenancy } = deps;
  if (!(await lock.held())) return { step: step.name, message: 'lost the provisioning lock', error: new Error('lost the provisioning lock'), lockLost: true };
  const started = performance.now();
  await markStep(tenancy.central, run.id, step.name, 'RUNNING');
  try {
    const delay = deps.stepDelayMs?.[step.name];
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    if (step.name === 'activate' && run.input.failAfter) throw new Error(`provisioning stopped before activate (failAfter ${run.input.failAfter})`);
    if (step.name === 'activate') await activate(tenancy, run, record, Math.round(performance.now() - started));
    else {
      await step.run(context);
      if (run.input.failAfter === step.name) throw new Error(`provisioning stopped after ${step.name} (failAfter)`);
      await markStep(tenancy.central, run.id, step.name, 'DONE', Math.round(performance.now() - started));
    }
    return undefined;
  } catch (error) {
    const message = describeError(error);
    // Failing because another worker took the attempt over (and is undoing it) is not this attempt's failure to record.
    if (!(await lock.held())) return { step: step.name, message, error, lockLost: true };
    await markStep(tenancy.central, run.id, step.name, 'FAILED', Math.round(performance.now() - started), message);
    // info: an outcome recorded on the run and shown to whoever asked, not a fault of this process (and CLI --json keeps stdout clean).
    tenancy.logger.info({ err: error, tenantId: record.id, step: step.name }, 'provisioning step failed; undoing');
    return { step: step.name, message, error };
  }
}

/** The tenant ACTIVE and the run finished, together: no process sees one without the other. */
async function activate(tenancy: Tenancy, run: RunRow, record: ProvisionedTenant, durationMs: number): Promise<void> {
  await inTransaction(tenancy.central, async (client) => {
    await markStep(client, run.id, 'activate', 'DONE', durationMs);
    await setRunStatus(client, run.id, 'ACTIVE');
    await client.query("UPDATE tenants SET status = 'ACTIVE', updated_at = now() WHERE id = $1 AND status = 'PROVISIONING'", [record.id]);
  });
  await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: record.id, from: 'PROVISIONING', to: 'ACTIVE' });
  await tenancy.events.publish({ type: 'TenantProvisioned', tenantId: record.id });
}

/** UNDOING (recorded first, so a crash during undo is finished by the next process), then undo. Answers the undo's error, if any. */
async function undo(deps: DriverDeps, run: RunRow, record: ProvisionedTenant, error: string | null): Promise<string | undefined> {
  await setRunStatus(deps.tenancy.central, run.id, 'UNDOING', error);
  try {
    await undoProvisioning(deps.tenancy, record, run.state);
    await markUndone(deps.tenancy.central, run.id);
    return undefined;
  } catch (undoError) {
    return describeError(undoError);
  }
}

async function fail(tenancy: Tenancy, run: RunRow, record: ProvisionedTenant, error: string): Promise<void> {
  await inTransaction(tenancy.central, async (client) => {
    await client.query("UPDATE provisioning_runs SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1", [run.id, error]);
    await client.query("UPDATE tenants SET status = 'FAILED', updated_at = now() WHERE id = $1 AND status = 'PROVISIONING'", [record.id]);
  });
  await tenancy.events.publish({ type: 'TenantStatusChanged', tenantId: record.id, from: 'PROVISIONING', to: 'FAILED' });
}

async function loadRecord(tenancy: Tenancy, tenantId: string): Promise<ProvisionedTenant | undefined> {
  const { rows } = await tenancy.central.query<ProvisionedTenant>(
    `SELECT id, level, key, slug, name, parent_id AS "parentId", isolation, database_name AS "databaseName", schema_name AS "schemaName",
            db_server_id AS "dbServerId", db_username AS "dbUsername" FROM tenants WHERE id = $1`,
    [tenantId],
  );
  const record = rows[0];
  if (record) await tenancy.servers.ensure(record.dbServerId ?? null).catch(() => {}); // a server that is down fails the step that needs it, with its cause
  return record;
}

/**
 * An error as recorded and shown in `tenant.provisioning`: its message, without anything that could
 * carry a credential (a connection URL's user info, a password= pair), at most 500 characters.
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@')
    .replace(/(password\s*[=:]\s*)\S+/gi, '$1***')
    .replace(/PASSWORD\s+'[^']*'/gi, "PASSWORD '***'")
    .slice(0, 500);
}
