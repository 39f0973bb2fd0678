/**
 * Durable jobs in the central database, on pg-boss 10 (its tables live in the `pgboss` schema;
 * pg-boss creates and upgrades them itself on start, under its own advisory lock).
 *
 * One queue per job name, created from the definition (pg-boss 10 needs `createQueue` before a
 * send) with the definition's retry policy. Enqueueing can join the caller's transaction: the
 * job row is then written, or rolled back, with the caller's own rows.
 */
import PgBoss from 'pg-boss';
import { type Logger } from '../logger.js';
import {
  type AnyJobDefinition,
  type CentralJobData,
  type CentralJobDefinition,
  type ResolvedJobOptions,
  type RunCentral,
  type RunInTenant,
  type TenantJobData,
  type TenantJobDefinition,
} from './job-definitions.js';
import { JobStore, type JobListFilter, type JobListPage, type JobPosition, type JobRecord } from './job-store.js';
import { JobWorker, type WorkerOptions } from './job-worker.js';

/** Anything that runs SQL on the caller's open transaction: a `pg.PoolClient` after BEGIN, a `pg.Client`. */
export type TransactionClient = { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

export type EnqueueOptions = {
  /**
   * The caller's open transaction on the central database (jobs live there): the job exists only
   * if it commits. A tenant database's transaction cannot carry it — it is another database.
   */
  db?: TransactionClient;
  /** Not before this time. */
  startAfter?: Date;
  /** For singleton jobs: the key one waiting job is kept per (default: the tenant id). */
  singletonKey?: string;
};

export type RetryResult = { status: 'retried'; job: JobRecord } | { status: 'not-failed'; job: JobRecord } | { status: 'not-found' };

export interface JobQueue<Ctx> {
  /** Makes these definitions known (enqueue by name needs it); their queues are created on first use. */
  register(definitions: readonly AnyJobDefinition<Ctx>[]): Promise<void>;
  /** Queues a tenant job. Answers the job id, or null when a singleton job already waits. */
  enqueue<P>(tenantId: string, job: TenantJobDefinition<P, Ctx> | string, payload: P, options?: EnqueueOptions): Promise<string | null>;
  /** Queues a central job (no tenant). */
  enqueueCentral<P>(job: CentralJobDefinition<P, Ctx> | string, payload: P, options?: EnqueueOptions): Promise<string | null>;
  /**
   * Runs a central job on a cron schedule (`* * * * *`, minute precision) in every worker
   * process together, exactly once per tick. Tenant jobs are not scheduled directly — one
   * schedule per queue would mean one tenant — a central job fans out to the tenants instead.
   */
  schedule<P>(job: CentralJobDefinition<P, Ctx> | string, cron: string, payload?: P, options?: { tz?: string }): Promise<void>;
  unschedule<P>(job: CentralJobDefinition<P, Ctx> | string): Promise<void>;
  /** Starts running jobs of these definitions in this process. */
  startWorker(definitions: readonly AnyJobDefinition<Ctx>[], options: WorkerOptions): Promise<void>;
  /** Stops fetching and waits for running jobs to finish. */
  stopWorker(): Promise<void>;
  list(filter: JobListFilter, first: number, after?: JobPosition): Promise<JobListPage>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Puts a failed job back in the queue (one more attempt). */
  retry(id: string): Promise<RetryResult>;
  /** Drains the worker, then closes pg-boss and its pool. */
  close(): Promise<void>;
}

export type JobQueueOptions<Ctx> = {
  /** The central database (contains credentials: never logged). */
  connectionString: string;
  logger: Logger;
  runInTenant: RunInTenant<Ctx>;
  /** Enters the central scope for central jobs. */
  runCentral: RunCentral<Ctx>;
  /** The ids among `tenantIds` whose tenant is deleted (status DELETED, deleted_at set, or no row). */
  findDeletedTenants: (tenantIds: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Default `pgboss`. */
  schema?: string;
  /** Connections of pg-boss's own pool. Default 4. */
  poolMax?: number;
  /**
   * Run pg-boss's maintenance (expiring stuck jobs, archiving, cron delivery) in this process.
   * Worker processes do; every one may (pg-boss serialises them). Default true.
   */
  maintenance?: boolean;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function openJobQueue<Ctx>(options: JobQueueOptions<Ctx>): Promise<JobQueue<Ctx>> {
  const schema = options.schema ?? 'pgboss';
  const logger = options.logger.child({ component: 'jobs' });
  const maintenance = options.maintenance ?? true;
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    max: options.poolMax ?? 4,
    application_name: 'tenantgraph:jobs',
    supervise: maintenance,
    schedule: maintenance,
    migrate: true,
  });
  // pg-boss reports background failures (maintenance, cron) as events; unhandled they would crash.
  boss.on('error', (error: Error) => logger.error({ err: error }, 'pg-boss background error'));

  // pg-boss starts on first use, so a process that never touches jobs (most CLI commands) opens
  // no pool and creates no schema. The server's worker uses it at start-up.
  let starting: Promise<unknown> | undefined;
  const started = () => (starting ??= boss.start());
  /** Queues created (or brought up to date) in this process, by name. */
  const queues = new Map<string, Promise<void>>();
  // One at a time: creating a queue attaches a partition to pg-boss's job table, and two
  // attachments at once deadlock (another process may still collide: retryOnDeadlock).
  let creating: Promise<unknown> = Promise.resolve();
  const queueReady = (definition: AnyJobDefinition<Ctx>) => {
    let ready = queues.get(definition.name);
    if (!ready) {
      const settings = queueOptions(definition.name, definition.options);
      // createQueue leaves an existing queue as it is; updateQueue brings its policy up to date.
      ready = creating.then(started).then(() =>
        retryOnDeadlock(async () => {
          await boss.createQueue(definition.name, settings);
          await boss.updateQueue(definition.name, settings);
        }),
      );
      creating = ready.catch(() => {});
      ready.catch(() => queues.delete(definition.name)); // try again on the next use
      queues.set(definition.name, ready);
    }
    return ready;
  };

  const store = new JobStore(boss.getDb(), schema);
  const definitions = new Map<string, AnyJobDefinition<Ctx>>();
  let worker: JobWorker<Ctx> | undefined;
  let closing: Promise<void> | undefined;

  const register = async (list: readonly AnyJobDefinition<Ctx>[]) => {
    for (const definition of list) {
      const known = definitions.get(definition.name);
      if (known && known !== definition) throw new Error(`Two job definitions are named ${definition.name}`);
      definitions.set(definition.name, definition);
    }
  };

  const definitionOf = async <K extends 'tenant' | 'central'>(kind: K, job: AnyJobDefinition<Ctx> | string) => {
    if (typeof job !== 'string') await register([job]);
    const name = typeof job === 'string' ? job : job.name;
    const definition = definitions.get(name);
    if (!definition) throw new Error(`Unknown job ${JSON.stringify(name)}: define it and register it before enqueueing by name`);
    if (definition.kind !== kind) throw new Error(`Job ${name} is a ${definition.kind} job`);
    await queueReady(definition);
    return definition;
  };

  const send = (definition: AnyJobDefinition<Ctx>, data: TenantJobData | CentralJobData, singletonKey: string | undefined, enqueue: EnqueueOptions) =>
    boss.send(definition.name, data, {
      ...(enqueue.db ? { db: asPgBossDb(enqueue.db) } : {}),
      ...(enqueue.startAfter ? { startAfter: enqueue.startAfter } : {}),
      ...(definition.options.singleton ? { singletonKey: enqueue.singletonKey ?? singletonKey ?? definition.name } : {}),
    });

  const queue: JobQueue<Ctx> = {
    register,
    async enqueue(tenantId, job, payload, enqueue = {}) {
      if (!UUID.test(tenantId)) throw new Error(`enqueue: ${JSON.stringify(tenantId)} is not a tenant id`);
      const definition = await definitionOf('tenant', job);
      return send(definition, { tenantId: tenantId.toLowerCase(), payload }, tenantId.toLowerCase(), enqueue);
    },
    async enqueueCentral(job, payload, enqueue = {}) {
      const definition = await definitionOf('central', job);
      return send(definition, { payload }, undefined, enqueue);
    },
    async schedule(job, cron, payload, scheduleOptions = {}) {
      const definition = await definitionOf('central', job);
      await boss.schedule(definition.name, cron, { payload: payload ?? null }, { ...(scheduleOptions.tz ? { tz: scheduleOptions.tz } : {}) });
    },
    async unschedule(job) {
      await started();
      await boss.unschedule(typeof job === 'string' ? job : job.name);
    },
    async startWorker(list, workerOptions) {
      if (worker) throw new Error('The job worker is already running');
      await register(list);
      await Promise.all(list.map(queueReady));
      const own = new Map(list.map((definition) => [definition.name, definition]));
      worker = new JobWorker({ boss, logger, runInTenant: options.runInTenant, runCentral: options.runCentral, findDeletedTenants: options.findDeletedTenants }, own, workerOptions);
      worker.start();
      logger.info({ jobs: [...own.keys()], concurrency: workerOptions.concurrency }, 'job worker started');
    },
    async stopWorker() {
      const running = worker;
      worker = undefined;
      if (!running) return;
      logger.info({ active: running.active }, 'job worker stopping: finishing running jobs');
      await running.stop();
    },
    async list(filter, first, after) {
      await started();
      return store.list(filter, first, after);
    },
    async get(id) {
      if (!UUID.test(id)) return undefined;
      await started();
      return store.get(id);
    },
    async retry(id) {
      const job = await queue.get(id);
      if (!job) return { status: 'not-found' };
      if (job.state !== 'failed') return { status: 'not-failed', job };
      await boss.retry(job.name, job.id);
      // The job as this call left it: queued for retry. Reading it back raced with a worker that
      // had already taken it (ACTIVE), or failed it again.
      return { status: 'retried', job: { ...job, state: 'retry' } };
    },
    close() {
      return (closing ??= (async () => {
        await queue.stopWorker();
        if (!starting) return;
        await starting.catch(() => {});
        await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
      })());
    },
  };
  return queue;
}

function queueOptions(name: string, options: ResolvedJobOptions): PgBoss.Queue {
  return {
    name,
    policy: options.singleton ? 'stately' : 'standard',
    retryLimit: options.retryLimit,
    retryDelay: options.retryDelaySeconds,
    retryBackoff: options.retryBackoff,
    expireInSeconds: options.expireInSeconds,
  };
}

/** Runs `fn` again (up to 5 times in all, after a short random pause) when PostgreSQL picked it as a deadlock victim. */
async function retryOnDeadlock<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}

/** pg-boss runs SQL through `{ executeSql }`; this points it at the caller's transaction. */
function asPgBossDb(client: TransactionClient): PgBoss.Db {
  return { executeSql: (text, values) => client.query(text, values) };
}
