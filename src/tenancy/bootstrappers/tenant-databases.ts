/**
 * A scope's database handles, one per level, created on first use and released when the scope
 * (request, job, command) ends. Each handle is a Prisma client the registry leased for exactly this
 * scope's tenant: there is no shared "current tenant" client to switch (DESIGN §6).
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { type CentralPrisma } from '../../infra/central-database.js';
import { type IdentifiedScope, type TenantRecord } from '../identification/identification-types.js';
import { type StorageRecord } from '../isolation/isolation-strategy.js';
import { type AppClient, type ClusterClient, type GroupClient, type TenantClient, type LevelClientKind, type levelClientFactories } from '../level-clients.js';
import { type ClusterModule, type DataLevel } from '../model.js';
import { type ClientRegistry, type ConnectionTarget, type Lease } from '../registry/registry-types.js';
import { type StorageNaming } from '../storage-names.js';

/** What database handles need to find a tenant's storage; no DDL, no admin pool. */
export type DatabaseRouting = {
  centralPrisma: CentralPrisma;
  registry: ClientRegistry<typeof levelClientFactories>;
  naming: StorageNaming;
  /** Where the registry connects for a tenant's own tables. */
  connectionTarget(record: StorageRecord): ConnectionTarget;
};

export class TenantDatabases {
  private leases: Lease<unknown>[] | undefined;
  private readonly byKey = new Map<string, unknown>();

  constructor(
    private readonly routing: DatabaseRouting,
    private readonly scope: IdentifiedScope,
  ) {}

  central(): CentralPrisma {
    return this.routing.centralPrisma;
  }

  app(): AppClient {
    if (this.scope.level === 'CENTRAL') throw missing('APP', this.scope.level);
    return this.leased('app', this.scope.app);
  }

  group(): GroupClient {
    if (this.scope.level !== 'CENTRAL_TENANT' && this.scope.level !== 'TENANT') throw missing('CENTRAL_TENANT', this.scope.level);
    return this.leased('group', this.scope.group);
  }

  tenant(): TenantClient {
    return this.leased('tenant', this.tenantRecord());
  }

  /** A cluster schema of the request's tenant, e.g. ('emr', 2026) → emr_2026. Validates the year. */
  cluster(module: ClusterModule, year: number): ClusterClient {
    const tenant = this.tenantRecord();
    return this.leased('cluster', tenant, this.routing.naming.clusterSchema(tenant, module, year));
  }

  /** The handle for a level, as the @tenantLevel directive hands it to resolvers. */
  forLevel(level: DataLevel): CentralPrisma | AppClient | GroupClient | TenantClient {
    switch (level) {
      case 'CENTRAL':
        return this.central();
      case 'APP':
        return this.app();
      case 'CENTRAL_TENANT':
        return this.group();
      case 'TENANT':
        return this.tenant();
      default: {
        const unreachable: never = level;
        throw new Error(`unknown level ${String(unreachable)}`);
      }
    }
  }

  tenantRecord(): TenantRecord {
    if (this.scope.level !== 'TENANT') throw missing('TENANT', this.scope.level);
    return this.scope.tenant;
  }

  /** Returns every lease to the registry. Called once when the scope ends. */
  release(): void {
    const leases = this.leases;
    this.leases = undefined;
    this.byKey.clear();
    if (leases) for (const lease of leases) lease.release();
  }

  /**
   * The request's client of `kind` for `record`, in `schema` (default: the record's own schema).
   * Memoised per request, so a resolver tree asking many times leases once.
   */
  private leased<K extends LevelClientKind>(kind: K, record: TenantRecord, schema?: string): ReturnType<(typeof levelClientFactories)[K]> {
    const key = `${kind}:${record.id}:${schema ?? ''}`;
    const cached = this.byKey.get(key);
    if (cached) return cached as never;
    const own = this.routing.connectionTarget(record);
    const target = schema ? { ...own, schema } : own;
    const lease = this.routing.registry.lease(target, kind);
    (this.leases ??= []).push(lease);
    this.byKey.set(key, lease.client);
    return lease.client as never;
  }
}

function missing(level: DataLevel, have: string): AppError {
  return new AppError(ErrorCode.TENANT_CONTEXT_REQUIRED, `This needs a ${level} context; the request has a ${have} context`, {
    details: { requiredLevel: level, contextLevel: have },
  });
}
