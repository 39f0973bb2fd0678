/**
 * One way into a tenant's context. HTTP requests (`enter`, released by the server when the
 * response is sent), jobs, CLI commands and scripts (`runInTenant`) all get their handles from the
 * same bootstrappers, inside the same AsyncLocalStorage.
 */
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type Principal, type TenantChain } from '../identification/identification-types.js';
import { type TenantDirectory } from '../identification/tenant-directory.js';
import { type ScopeInfo } from './bootstrapper.js';
import { runInScopeState } from './scope-storage.js';
import { EnteredScope, type ScopeServices, type TenantBootstrappers, type TenantContext } from './tenant-context.js';

/** A tenant (any level) by id, or its already resolved chain. */
export type TenantTarget = string | TenantChain;

export type RunOptions = {
  /** Id bound into logs; default a new uuid. */
  id?: string;
};

export type TenantScopes = {
  /** Enters a scope whose tenant is already known (the HTTP path); the caller must `release()` it. */
  enter(info: ScopeInfo): EnteredScope;
  /**
   * Runs `fn` in `target`'s context inside AsyncLocalStorage and releases every handle afterwards,
   * whatever `fn` does. The tenant's status is not checked: provisioning and deletion jobs run in
   * tenants nobody else may reach; callers that serve users check it (`assertTenantAvailable`).
   * Scopes nest: inside `fn`, the ALS context is `fn`'s own, and the caller's is back afterwards.
   */
  runInTenant<T>(target: TenantTarget, principal: Principal, fn: (context: TenantContext) => Promise<T>, options?: RunOptions): Promise<T>;
  /** Like runInTenant, in the central (landlord) scope. */
  runCentral<T>(principal: Principal, fn: (context: TenantContext) => Promise<T>, options?: RunOptions): Promise<T>;
};

export function makeTenantScopes(options: {
  directory: Pick<TenantDirectory, 'findById'>;
  bootstrappers: TenantBootstrappers;
  services: ScopeServices;
  onReleaseError: (resource: string, error: unknown) => void;
}): TenantScopes {
  const { directory, bootstrappers, services, onReleaseError } = options;
  const enter = (info: ScopeInfo) => new EnteredScope(info, bootstrappers, services, onReleaseError);

  async function run<T>(info: ScopeInfo, fn: (context: TenantContext) => Promise<T>): Promise<T> {
    const context = enter(info);
    try {
      return await runInScopeState({ id: info.id, context }, () => fn(context));
    } finally {
      await context.release();
    }
  }

  return {
    enter,
    async runInTenant(target, principal, fn, runOptions = {}) {
      const chain = typeof target === 'string' ? await directory.findById(target) : target;
      if (!chain) throw new AppError(ErrorCode.TENANT_NOT_FOUND, `Tenant ${String(target)} not found`);
      return run({ id: runOptions.id ?? randomUUID(), scope: chain, principal }, fn);
    },
    runCentral: (principal, fn, runOptions = {}) => run({ id: runOptions.id ?? randomUUID(), scope: { level: 'CENTRAL' }, principal }, fn),
  };
}
