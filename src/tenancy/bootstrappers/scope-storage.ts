/**
 * The AsyncLocalStorage that carries the current scope (HTTP request, job, command) through
 * async calls. It holds the scope's id at once, its context once the tenant is known, and the
 * connections its statements ran on (so a request past its deadline can cancel them).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import { type TenantContext } from './tenant-context.js';

export type ScopeState = {
  id: string;
  context: TenantContext | undefined;
  /** Registry connections this scope sent statements on (to cancel them past its deadline). */
  connections?: Set<pg.Client>;
  /** Answered already (deadline, shutdown): further statements are refused. */
  abandoned?: boolean;
  // What the access log and metrics read once an HTTP response is complete (src/server.ts):
  /** What chose the tenant: an identifier (`token`, `domain`, `subdomain`, `header`) or `none` (central). */
  identifiedBy?: string;
  /** Set by Apollo's didResolveOperation, when the document named an operation it could run. */
  operation?: { name: string | undefined; type: string };
  /** extensions.code of every error sent, in order. */
  errorCodes?: string[];
};

const storage = new AsyncLocalStorage<ScopeState>();

export function runInScopeState<T>(state: ScopeState, fn: () => T): T {
  return storage.run(state, fn);
}

/** The current scope's state, or undefined outside any scope. */
export function currentScopeState(): ScopeState | undefined {
  return storage.getStore();
}

/** Id of the current request, job or command; undefined outside any scope. */
export function currentScopeId(): string | undefined {
  return storage.getStore()?.id;
}

/** The current scope's context, or undefined outside a scope (or before its tenant is known). */
export function currentTenantContext(): TenantContext | undefined {
  return storage.getStore()?.context;
}

/**
 * Called by the client registry before each statement (src/tenancy/tenancy.ts): remembers which
 * scope the connection works for, and refuses statements of a request that was already answered.
 */
export function noteStatement(connection: pg.Client, statement: unknown): void {
  const state = storage.getStore();
  if (state === undefined) return;
  // ROLLBACK still goes through: a connection must not go back to its pool inside a transaction.
  if (state.abandoned && !isRollback(statement)) throw new Error('the request was already answered (deadline or shutdown); statement not sent');
  lastScopeOf.set(connection, state);
  (state.connections ??= new Set()).add(connection);
}

function isRollback(statement: unknown): boolean {
  const text = typeof statement === 'string' ? statement : (statement as { text?: unknown } | null)?.text;
  return typeof text === 'string' && /^\s*ROLLBACK\b/i.test(text);
}

/** The scope that sent the latest statement on each connection (a connection serves many scopes in turn). */
const lastScopeOf = new WeakMap<pg.Client, ScopeState>();

/** Whether `state`'s scope sent the latest statement on `connection`. */
export function lastStatementWasFrom(connection: pg.Client, state: ScopeState): boolean {
  return lastScopeOf.get(connection) === state;
}
