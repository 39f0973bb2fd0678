/**
 * The worker loop: fetches jobs of every defined queue, runs up to `concurrency` at once, and
 * settles each job on its own (complete, fail → retry with backoff, or discard).
 *
 * Why not pg-boss's `work()`: it hands a batch to one callback and fails or completes the whole
 * batch together, and it waits a full polling interval between batches. Tenant jobs must succeed
 * or fail one by one, and a busy worker should fetch again as soon as a slot frees up. pg-boss
 * still does the durable parts: storage, `FOR UPDATE SKIP LOCKED` fetching, retry bookkeeping,
 * expiry of stuck jobs, cron.
 *
 * Every tenant job runs through `runInTenant` (central jobs through `runCentral`) as the system
 * principal `job:<name>`; the context exists only inside that call. A job whose tenant is deleted is completed with a reason and never
 * runs; the check reads the central database (not a cache) once per fetched batch.
 */
import type PgBoss from 'pg-boss';
import { type Logger } from '../logger.js';
import {
  type AnyJobDefinition,
  type CentralJobData,
  type CentralJobDefinition,
  type RunCentral,
  type RunInTenant,
  type TenantJobData,
  type TenantJobDefinition,
} from './job-definitions.js';

export type WorkerOptions = {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How long an idle worker waits before asking for jobs again. */
  pollIntervalMs: number;
};

export type WorkerDependencies<Ctx> = {
  boss: PgBoss;
  logger: Logger;
  runInTenant: RunInTenant<Ctx>;
  runCentral: RunCentral<Ctx>;
  /** The ids among `tenantIds` whose tenant is deleted (status DELETED, deleted_at set, or no row). */
  findDeletedTenants: (tenantIds: readonly string[]) => Promise<ReadonlySet<string>>;
};

/** Stored as the output of a job that was completed without running. */
export const TENANT_DELETED_OUTPUT = { discarded: 'TENANT_DELETED', reason: 'The tenant was deleted; the job did not run' } as const;

export class JobWorker<Ctx> {
  private readonly running = new Set<Promise<void>>();
  private readonly names: string[];
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Rotates the queue fetched first, so one busy queue cannot starve the others. */
  private turn = 0;

  constructor(
    private readonly deps: WorkerDependencies<Ctx>,
    private readonly definitions: ReadonlyMap<string, AnyJobDefinition<Ctx>>,
    private readonly options: WorkerOptions,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('worker concurrency must be a whole number >= 1');
    this.names = [...definitions.keys()];
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Jobs running right now. */
  get active(): number {
    return this.running.size;
  }

  /** Stops fetching, then waits for every running job to settle (drain). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let fetched = 0;
      try {
        fetched = await this.fetchRound();
      } catch (error) {
        this.deps.logger.error({ err: error }, 'job worker: fetching jobs failed; trying again');
      }
      if (this.stopping) break;
      if (this.running.size >= this.options.concurrency) await this.waitFor([Promise.race(this.running)]);
      else if (fetched === 0) await this.waitFor([delay(this.options.pollIntervalMs)]);
    }
  }

  /** Waits for any of `promises`, or for stop(). */
  private async waitFor(promises: Promise<unknown>[]): Promise<void> {
    const stopped = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([...promises, stopped]);
    this.wake = undefined;
  }

  private async fetchRound(): Promise<number> {
    let fetched = 0;
    const count = this.names.length;
    this.turn = (this.turn + 1) % Math.max(count, 1);
    for (let i = 0; i < count && !this.stopping; i++) {
      const free = this.options.concurrency - this.running.size;
      if (free <= 0) break;
      const definition = this.definitions.get(this.names[(this.turn + i) % count]!)!;
      // On a singleton (stately) queue pg-boss answers nothing at all when any fetched job's key is
      // already running (a unique index refuses the whole update); one at a time, only the head can.
      const batchSize = definition.options.singleton ? 1 : free;
      const jobs = await this.deps.boss.fetch<unknown>(definition.name, { batchSize, includeMetadata: true });
      if (jobs.length === 0) continue;
      fetched += jobs.length;
      await this.dispatch(definition, jobs);
    }
    return fetched;
  }

  private async dispatch(definition: AnyJobDefinition<Ctx>, jobs: PgBoss.JobWithMetadata<unknown>[]): Promise<void> {
    if (definition.kind === 'central') {
      for (const job of jobs) this.track(this.runCentralJob(definition, job));
      return;
    }
    let deleted: ReadonlySet<string>;
    try {
      deleted = await this.deletedTenantsOf(jobs);
    } catch (error) {
      // Without knowing, running is as wrong as discarding: fail them, so they are retried.
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const job of jobs) this.track(this.settle(definition.name, job, () => Promise.reject(failure)));
      return;
    }
    for (const job of jobs) this.track(this.runTenantJob(definition, job, deleted));
  }

  private track(work: Promise<void>): Promise<void> {
    const tracked = work.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  private async deletedTenantsOf(jobs: PgBoss.JobWithMetadata<unknown>[]): Promise<ReadonlySet<string>> {
    const ids = [...new Set(jobs.map((job) => tenantIdOf(job)).filter((id): id is string => id !== undefined))];
    return ids.length === 0 ? new Set() : this.deps.findDeletedTenants(ids);
  }

  private runTenantJob(definition: TenantJobDefinition<unknown, Ctx>, job: PgBoss.JobWithMetadata<unknown>, deleted: ReadonlySet<string>): Promise<void> {
    const tenantId = tenantIdOf(job);
    const attempt = job.retryCount + 1;
    const logger = this.deps.logger.child({ job: definition.name, jobId: job.id, tenantId, attempt });
    if (tenantId === undefined) {
      return this.settle(definition.name, job, () => Promise.reject(new Error('job data carries no tenant id')), logger);
    }
    if (deleted.has(tenantId)) {
      logger.info('job discarded: its tenant was deleted');
      return this.complete(definition.name, job.id, TENANT_DELETED_OUTPUT, logger);
    }
    const payload = (job.data as TenantJobData).payload;
    return this.settle(
      definition.name,
      job,
      () =>
        this.deps.runInTenant(tenantId, { kind: 'system', actor: `job:${definition.name}` }, (ctx) =>
          definition.handler(payload, ctx, { id: job.id, name: definition.name, attempt, tenantId, logger }),
        ),
      logger,
    );
  }

  private runCentralJob(definition: CentralJobDefinition<unknown, Ctx>, job: PgBoss.JobWithMetadata<unknown>): Promise<void> {
    const attempt = job.retryCount + 1;
    const logger = this.deps.logger.child({ job: definition.name, jobId: job.id, attempt });
    const payload = (job.data as CentralJobData | null)?.payload;
    return this.settle(
      definition.name,
      job,
      () => this.deps.runCentral({ kind: 'system', actor: `job:${definition.name}` }, (ctx) => definition.handler(payload, ctx, { id: job.id, name: definition.name, attempt, logger })),
      logger,
    );
  }

  /** Runs `body`; completes the job when it resolves, fails it (retry or failed) when it throws. */
  private async settle(name: string, job: PgBoss.JobWithMetadata<unknown>, body: () => Promise<unknown>, logger = this.deps.logger.child({ job: name, jobId: job.id })): Promise<void> {
    let failure: Error | undefined;
    try {
      await body();
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    if (!failure) return this.complete(name, job.id, undefined, logger);
    const final = job.retryCount >= job.retryLimit;
    logger.warn({ err: failure }, final ? 'job failed; no retries left' : 'job failed; it will be retried');
    try {
      // Name and message only: a stack trace is for the logs, not for the jobs API.
      await this.deps.boss.fail(name, job.id, { name: failure.name, message: failure.message.slice(0, 2000) });
    } catch (error) {
      logger.error({ err: error }, 'could not record the job failure; pg-boss expires and retries it');
    }
  }

  private async complete(name: string, id: string, output: object | undefined, logger: Logger): Promise<void> {
    try {
      await this.deps.boss.complete(name, id, output);
    } catch (error) {
      logger.error({ err: error }, 'could not record the job as completed; pg-boss expires and retries it');
    }
  }
}

function tenantIdOf(job: PgBoss.JobWithMetadata<unknown>): string | undefined {
  const tenantId = (job.data as Partial<TenantJobData> | null)?.tenantId;
  return typeof tenantId === 'string' ? tenantId : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
