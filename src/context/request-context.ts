import { AsyncLocalStorage } from 'node:async_hooks';
import { type Logger } from '../infra/logger.js';

/**
 * What one request knows about itself. Built once per request (see createContext), held in
 * AsyncLocalStorage and handed to Apollo as the context. Nothing tenant-specific lives in module
 * state: a Node process serves many tenants at once.
 */
export type RequestContext = {
  requestId: string;
  /** Bound to this request (and, once identified, its tenant). */
  logger: Logger;
  services: ServerServices;
};

/** Process-wide services a resolver may reach through its context. */
export type ServerServices = {
  version: string;
  readiness: () => Promise<Readiness>;
};

export type Readiness = { ready: true } | { ready: false; reason: string };

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The current request's context, or undefined outside a request. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
