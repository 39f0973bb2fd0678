/**
 * What a job is: a name (one pg-boss queue per name), a handler and its retry policy.
 *
 * Two kinds. A tenant job always runs inside one tenant's context (the worker enters it through
 * `runInTenant`), and its tenant id travels in the job row next to — never inside — the payload,
 * so a payload cannot name another tenant. A central job runs with no tenant at all: maintenance,
 * cron fan-outs ("enqueue X for every active tenant"), anything about the landlord.
 *
 * This module knows nothing about how a tenant context is built: the context type is a parameter,
 * filled in where the app wires the worker (infra does not import tenancy).
 */
import { type Logger } from '../logger.js';

/** Who a job runs as: the system, named after the job (`job:<name>`), for logs and audits. */
export type SystemPrincipal = { kind: 'system'; actor: string };

/**
 * Enters a tenant's context, runs `fn` and releases everything it opened, whatever `fn` does.
 * Provided by the tenancy runtime; the worker never builds a tenant context itself.
 */
export type RunInTenant<Ctx> = <T>(tenantId: string, principal: SystemPrincipal, fn: (ctx: Ctx) => Promise<T>) => Promise<T>;

/** Like RunInTenant, in the central (landlord) scope: what central jobs run in. */
export type RunCentral<Ctx> = <T>(principal: SystemPrincipal, fn: (ctx: Ctx) => Promise<T>) => Promise<T>;

/** What a handler learns about the job it runs. `attempt` counts from 1. */
export type JobRun = { id: string; name: string; attempt: number; logger: Logger };
export type TenantJobRun = JobRun & { tenantId: string };

export type JobOptions = {
  /** Retries after the first attempt. Default 3. */
  retryLimit?: number;
  /** Seconds before a retry (the base of the backoff). Default 5. */
  retryDelaySeconds?: number;
  /** Doubles the delay at each retry, with jitter. Default true. */
  retryBackoff?: boolean;
  /**
   * At most one job of this name waiting and one running per singleton key (pg-boss "stately"
   * policy); an enqueue while one already waits is dropped and answers null. The key is the
   * tenant id for tenant jobs unless `singletonKey` is given; central jobs share one key.
   * Meant for scheduled jobs, so a slow run never piles up copies of itself.
   */
  singleton?: boolean;
  /** A running job not finished after this long is failed (and retried). Default 900 (15 min). */
  expireInSeconds?: number;
};

export type ResolvedJobOptions = Required<JobOptions>;

export type TenantJobHandler<P, Ctx> = (payload: P, ctx: Ctx, job: TenantJobRun) => Promise<void>;
export type CentralJobHandler<P, Ctx> = (payload: P, ctx: Ctx, job: JobRun) => Promise<void>;

export type TenantJobDefinition<P, Ctx> = {
  readonly kind: 'tenant';
  readonly name: string;
  readonly handler: TenantJobHandler<P, Ctx>;
  readonly options: ResolvedJobOptions;
};

export type CentralJobDefinition<P, Ctx> = {
  readonly kind: 'central';
  readonly name: string;
  readonly handler: CentralJobHandler<P, Ctx>;
  readonly options: ResolvedJobOptions;
};

// Handlers are contravariant in their payload, so a list of definitions is typed with `any` payloads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition<Ctx> = TenantJobDefinition<any, Ctx> | CentralJobDefinition<any, Ctx>;

/** What a job row's `data` holds. The tenant id sits beside the payload, not in it. */
export type TenantJobData = { tenantId: string; payload: unknown };
export type CentralJobData = { payload: unknown };

/** Queue names: lower-case, digits, `.`, `_`, `-`; pg-boss keeps `__pgboss__…` for itself. */
export const JOB_NAME_PATTERN = /^[a-z][a-z0-9._-]{0,62}$/;

export const DEFAULT_JOB_OPTIONS: ResolvedJobOptions = {
  retryLimit: 3,
  retryDelaySeconds: 5,
  retryBackoff: true,
  singleton: false,
  expireInSeconds: 900,
};

export function defineTenantJob<P, Ctx>(name: string, handler: TenantJobHandler<P, Ctx>, options: JobOptions = {}): TenantJobDefinition<P, Ctx> {
  return Object.freeze({ kind: 'tenant', name: checkedName(name), handler, options: resolveOptions(name, options) });
}

export function defineCentralJob<P, Ctx>(name: string, handler: CentralJobHandler<P, Ctx>, options: JobOptions = {}): CentralJobDefinition<P, Ctx> {
  return Object.freeze({ kind: 'central', name: checkedName(name), handler, options: resolveOptions(name, options) });
}

function checkedName(name: string): string {
  if (!JOB_NAME_PATTERN.test(name)) throw new Error(`Job name ${JSON.stringify(name)} is not valid: expected ${JOB_NAME_PATTERN.source}`);
  return name;
}

function resolveOptions(name: string, options: JobOptions): ResolvedJobOptions {
  const resolved = { ...DEFAULT_JOB_OPTIONS, ...definedOnly(options) };
  const wholeAtLeast = (value: number, min: number) => Number.isInteger(value) && value >= min;
  if (!wholeAtLeast(resolved.retryLimit, 0)) throw new Error(`Job ${name}: retryLimit must be a whole number >= 0`);
  if (!wholeAtLeast(resolved.retryDelaySeconds, 0)) throw new Error(`Job ${name}: retryDelaySeconds must be a whole number >= 0`);
  if (!wholeAtLeast(resolved.expireInSeconds, 1)) throw new Error(`Job ${name}: expireInSeconds must be a whole number >= 1`);
  return Object.freeze(resolved);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
