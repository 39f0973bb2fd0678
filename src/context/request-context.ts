import { AsyncLocalStorage } from 'node:async_hooks';
import type DataLoader from 'dataloader';
import { type Logger } from '../infra/logger.js';
import { type IdentificationSource, type IdentifiedScope, type Principal } from '../tenancy/identification/identification-types.js';
import { type AppMetrics } from '../observability/metrics.js';
import { type Tenancy } from '../tenancy/tenancy.js';
import { type RequestDatabases } from './request-databases.js';

/**
 * What one request knows about itself. Built once per request (createRequestContext), held in
 * AsyncLocalStorage and handed to Apollo as the context. Nothing tenant-specific lives in module
 * state: a Node process serves many tenants at once.
 */
export type RequestContext = {
  requestId: string;
  /** Bound to this request and its tenant. */
  logger: Logger;
  services: ServerServices;
  principal: Principal;
  scope: IdentifiedScope;
  /** What chose the tenant: an identifier (`token`, `domain`, `subdomain`, `header`) or `none` (central). */
  identifiedBy: IdentificationSource;
  db: RequestDatabases;
  /** Per-request DataLoaders, by name; they die with the request, so caches never cross tenants. */
  loaders: Map<string, DataLoader<unknown, unknown>>;
};

/** Process-wide services a resolver may reach through its context. */
export type ServerServices = {
  version: string;
  readiness: () => Promise<Readiness>;
  tenancy: Tenancy;
  /** Hooks for provisioning, migration and job metrics (src/observability/metrics.ts). */
  metrics?: AppMetrics;
};

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * What AsyncLocalStorage holds: the id at once, the context once identification is done, and
 * what the access log and metrics read when the response is complete (operation, error codes).
 */
export type RequestState = {
  requestId: string;
  context: RequestContext | undefined;
  /** Set by Apollo's didResolveOperation (server.ts), when the document named an operation it could run. */
  operation?: { name: string | undefined; type: string };
  /** extensions.code of every error sent, in order (formatError and server.ts record them). */
  errorCodes?: string[];
};

/** The current request's state, or undefined outside a request. */
export function currentRequestState(): RequestState | undefined {
  return storage.getStore();
}

const storage = new AsyncLocalStorage<RequestState>();

export function runWithRequestState<T>(state: RequestState, fn: () => T): T {
  return storage.run(state, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** The current request's context, or undefined outside a request (or before identification). */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore()?.context;
}

/** A named per-request DataLoader, created on first use. */
export function requestLoader<K, V>(context: RequestContext, name: string, make: () => DataLoader<K, V>): DataLoader<K, V> {
  let loader = context.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = make();
    context.loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}
