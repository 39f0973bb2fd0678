/**
 * The context of one scope — an HTTP request, a job, a CLI command — in one tenant (or centrally):
 * who acts, where, and that scope's handles. Handles are made on first use by their bootstrapper
 * and given back, newest first, by `release()`.
 */
import type DataLoader from 'dataloader';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type JobQueue } from '../../infra/jobs/index.js';
import { type Logger } from '../../infra/logger.js';
import { type TenantFiles } from '../../infra/storage/tenant-files.js';
import { chainTarget, type IdentifiedScope, type Principal, type TenantRecord } from '../identification/identification-types.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { type ClusterSchemaService } from '../clusters/cluster-service.js';
import { type FleetMigrationService } from '../fleet/fleet-migration-service.js';
import { type TenancyAdministration } from '../administration.js';
import { type ClusterModule } from '../model.js';
import { type PlanState } from '../plans/plan-state.js';
import { type AuthServices } from '../../auth/auth-services.js';
import { type AppMetrics } from '../../observability/metrics.js';
import { type Bootstrapper, type ClientInfo, type ScopeInfo } from './bootstrapper.js';
import { type TenantCache } from './cache.bootstrapper.js';
import { type TenantDatabases } from './tenant-databases.js';

/** `degraded`: ready, but an optional dependency (Redis) is down; the reason says which. */
export type Readiness = { ready: true; degraded?: string } | { ready: false; reason: string };

/** Read-only process services a scope may use. Deliberately narrow: no admin (DDL) pool, no registry. */
export type ScopeServices = {
  version: string;
  readiness(): Promise<Readiness>;
  /** Modules the tenant's plan enables; 'all' for a tenant without a plan. Cached briefly. */
  planModules(tenantId: string): Promise<'all' | readonly string[]>;
  /** Plan modules, limits and subscription expiry of a tenant (cached, invalidated by TenantUpdated). */
  planState(tenantId: string): Promise<PlanState>;
  /** Whether a tenant has a cluster schema (e.g. emr_2026). */
  clusterExists(record: StorageRecord, module: ClusterModule, year: number): Promise<boolean>;
  /** Oldest year requests may name (CLUSTER_YEARS_MIN); the newest is next year in the tenant's zone. */
  clusterYearsMin: number;
  /** Fleet migration runs (the migrateTenants mutation and migrationRun query; system admins only, by permissions.ts). */
  fleetMigrations: Pick<FleetMigrationService, 'start' | 'run' | 'items'>;
  /** Cluster schema generation and state (generateClusterSchemas, clusterSchemas; admins, checked in the resolver). */
  clusterSchemas: ClusterSchemaService;
  /** Tenancy administration (servers, keys, lifecycle); the permission rules decide who reaches it. */
  administration: TenancyAdministration;
  /** Sign-in, API tokens, impersonation, members and the audit log (central tables only). */
  auth: AuthServices;
  /** Hooks for provisioning, migration and job metrics (src/observability/metrics.ts). */
  metrics?: AppMetrics;
  /** Durable jobs: enqueue (also in the caller's transaction), and the admin API's list and retry. */
  jobs: Pick<JobQueue<TenantContext>, 'enqueue' | 'enqueueCentral' | 'list' | 'get' | 'retry'>;
};

/** One handle per tenant-scoped resource. */
export type TenantHandles = {
  db: TenantDatabases;
  cache: TenantCache;
  files: TenantFiles;
  logger: Logger;
};

export type TenantBootstrappers = { readonly [K in keyof TenantHandles]: Bootstrapper<TenantHandles[K]> };

export interface TenantContext extends TenantHandles {
  /** Request id, job id or command run id. */
  readonly id: string;
  readonly scope: IdentifiedScope;
  readonly principal: Principal;
  /** Request id, client IP and user agent, as the audit log and the sign-in throttle record them. */
  readonly client: ClientInfo;
  readonly services: ScopeServices;
  /** Per-scope DataLoaders by name; they die with the scope, so their caches never cross tenants. */
  readonly loaders: Map<string, DataLoader<unknown, unknown>>;
}

/** A scope entered through its bootstrappers; `release()` ends it. */
export class EnteredScope implements TenantContext {
  readonly loaders = new Map<string, DataLoader<unknown, unknown>>();
  private readonly handles: Partial<TenantHandles> = {};
  /** Handles in the order they were made, with the bootstrapper that made each. */
  private readonly entered: { bootstrapper: Bootstrapper<unknown>; handle: unknown }[] = [];
  private released = false;

  constructor(
    private readonly info: ScopeInfo,
    private readonly bootstrappers: TenantBootstrappers,
    readonly services: ScopeServices,
    private readonly onReleaseError: (resource: string, error: unknown) => void,
  ) {}

  get id(): string {
    return this.info.id;
  }

  get scope(): IdentifiedScope {
    return this.info.scope;
  }

  get principal(): Principal {
    return this.info.principal;
  }

  get client(): ClientInfo {
    return this.info.client ?? { requestId: this.info.id, ip: null, userAgent: null };
  }

  get db(): TenantDatabases {
    return this.handles.db ?? this.enter('db');
  }

  get cache(): TenantCache {
    return this.handles.cache ?? this.enter('cache');
  }

  get files(): TenantFiles {
    return this.handles.files ?? this.enter('files');
  }

  get logger(): Logger {
    return this.handles.logger ?? this.enter('logger');
  }

  /** Gives every handle back, newest first; a failing release is reported and the rest go on. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (let index = this.entered.length - 1; index >= 0; index--) {
      const { bootstrapper, handle } = this.entered[index]!;
      try {
        await bootstrapper.release?.(handle);
      } catch (error) {
        this.onReleaseError(String(index), error);
      }
    }
    this.loaders.clear();
  }

  private enter<K extends keyof TenantHandles>(name: K): TenantHandles[K] {
    if (this.released) throw new Error(`scope ${this.info.id} was released; its ${name} handle is gone`);
    const bootstrapper = this.bootstrappers[name] as Bootstrapper<TenantHandles[K]>;
    const handle = bootstrapper.enter(this.info);
    this.handles[name] = handle;
    this.entered.push({ bootstrapper: bootstrapper as Bootstrapper<unknown>, handle });
    return handle;
  }
}

/** The record a scope's tenant-keyed resources (cache, files) belong to; central scopes have none. */
export function scopeOwner(info: ScopeInfo, resource: string): TenantRecord {
  if (info.scope.level === 'CENTRAL') {
    throw new AppError(ErrorCode.TENANT_CONTEXT_REQUIRED, `The ${resource} belongs to a tenant; this scope is central`, {
      details: { requiredLevel: 'APP', contextLevel: 'CENTRAL' },
    });
  }
  return chainTarget(info.scope);
}

/** A named per-scope DataLoader, created on first use. */
export function scopeLoader<K, V>(context: Pick<TenantContext, 'loaders'>, name: string, make: () => DataLoader<K, V>): DataLoader<K, V> {
  let loader = context.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = make();
    context.loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}
