/**
 * The AsyncLocalStorage that carries the current scope (HTTP request, job, command) through
 * async calls. It holds the scope's id at once and its context once the tenant is known.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type TenantContext } from './tenant-context.js';

export type ScopeState = { id: string; context: TenantContext | undefined };

const storage = new AsyncLocalStorage<ScopeState>();

export function runInScopeState<T>(state: ScopeState, fn: () => T): T {
  return storage.run(state, fn);
}

/** Id of the current request, job or command; undefined outside any scope. */
export function currentScopeId(): string | undefined {
  return storage.getStore()?.id;
}

/** The current scope's context, or undefined outside a scope (or before its tenant is known). */
export function currentTenantContext(): TenantContext | undefined {
  return storage.getStore()?.context;
}
