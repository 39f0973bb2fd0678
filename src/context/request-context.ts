import { AsyncLocalStorage } from 'node:async_hooks';
import type DataLoader from 'dataloader';
import type pg from 'pg';
import { type Logger } from '../infra/logger.js';
import { type IdentifiedScope, type Principal } from '../tenancy/identification/identification-types.js';
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
  db: RequestDatabases;
  /** Per-request DataLoaders, by name; they die with the request, so caches never cross tenants. */
  loaders: Map<string, DataLoader<unknown, unknown>>;
};

/** Process-wide services a resolver may reach through its context. */
export type ServerServices = {
  version: string;
  readiness: () => Promise<Readiness>;
  tenancy: Tenancy;
};

export type Readiness = { ready: true } | { ready: false; reason: string };

/** What AsyncLocalStorage holds: the id at once, the context once identification is done. */
export type RequestState = {
  requestId: string;
  context: RequestContext | undefined;
  /** Registry connections this request sent statements on (to cancel them past its deadline). */
  connections?: Set<pg.Client>;
  /** Answered already (deadline, shutdown): further statements are refused. */
  abandoned?: boolean;
};

const storage = new AsyncLocalStorage<RequestState>();

export function runWithRequestState<T>(state: RequestState, fn: () => T): T {
  return storage.run(state, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/**
 * Called by the client registry before each statement (src/tenancy/tenancy.ts): remembers which
 * request the connection works for, and refuses statements of a request that was already answered.
 */
export function noteStatement(connection: pg.Client, statement: unknown): void {
  const state = storage.getStore();
  if (state === undefined) return;
  // ROLLBACK still goes through: a connection must not go back to its pool inside a transaction.
  if (state.abandoned && !isRollback(statement)) throw new Error('the request was already answered (deadline or shutdown); statement not sent');
  lastRequestOf.set(connection, state);
  (state.connections ??= new Set()).add(connection);
}

function isRollback(statement: unknown): boolean {
  const text = typeof statement === 'string' ? statement : (statement as { text?: unknown } | null)?.text;
  return typeof text === 'string' && /^\s*ROLLBACK\b/i.test(text);
}

/** The request that sent the latest statement on each connection (a connection serves many requests in turn). */
const lastRequestOf = new WeakMap<pg.Client, RequestState>();

/** Whether `state`'s request sent the latest statement on `connection`. */
export function lastStatementWasFrom(connection: pg.Client, state: RequestState): boolean {
  return lastRequestOf.get(connection) === state;
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
