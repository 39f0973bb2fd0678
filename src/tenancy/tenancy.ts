/**
 * Everything tenancy needs at run time, assembled once per process by the runtime
 * (src/runtime.ts): storage naming and isolation strategies, migration sets, the client registry,
 * the tenant directory. It holds the admin (DDL) pool, so it is for provisioning, migrations, jobs
 * and the CLI; resolvers see only the narrow ScopeServices and their scope's handles.
 */
import type pg from 'pg';
import { type Config } from '../config.js';
import { type CentralDatabase, type CentralPrisma } from '../infra/central-database.js';
import { type Logger } from '../infra/logger.js';
import { type RedisClient } from '../infra/redis.js';
import { changesTenantIdentity, type TenancyEvents } from './events/index.js';
import { createTenantDirectory, type TenantDirectory } from './identification/tenant-directory.js';
import { makeCentralSchemaIsolation } from './isolation/central-schema-isolation.js';
import { makeDatabaseIsolation } from './isolation/database-isolation.js';
import { type IsolationStrategy, type StorageRecord } from './isolation/isolation-strategy.js';
import { makeSchemaIsolation } from './isolation/schema-isolation.js';
import { makeCentralServerAdmin, type CentralServerAdmin } from './isolation/server-admin.js';
import { type KeyRing } from '../infra/crypto/key-ring.js';
import { loadKeyRing } from '../infra/crypto/load-key-ring.js';
import { makeDbServers, type DbServers } from './servers/db-servers.js';
import { withServersLoaded } from './servers/server-aware-directory.js';
import { levelClientFactories } from './level-clients.js';
import { loadMigrationSets, type MigrationSets } from './migration-targets.js';
import { noteStatement } from './bootstrappers/scope-storage.js';
import { createClientRegistry, type ClientRegistry } from './registry/index.js';
import { type ConnectionTarget } from './registry/registry-types.js';
import { makeStorageNaming, type StorageNaming } from './storage-names.js';
import { type ClusterModule, type Isolation, type TenantLevelName } from './model.js';
import { LRUCache } from 'lru-cache';
import { loadPlanState, type PlanState } from './plans/plan-state.js';

export type Tenancy = {
  config: Config;
  logger: Logger;
  /** Central database pool (landlord tables). */
  central: pg.Pool;
  centralPrisma: CentralPrisma;
  /** Admin access to the central server (apps' and groups' schemas, the central database). */
  admin: CentralServerAdmin;
  /** Database servers tenants are placed on, each with its admin access. */
  servers: DbServers;
  /** Encrypts and decrypts stored secrets (database passwords). */
  keyRing: KeyRing;
  naming: StorageNaming;
  migrations: MigrationSets;
  registry: ClientRegistry<typeof levelClientFactories>;
  directory: TenantDirectory;
  strategyFor(record: { level: TenantLevelName; isolation: Isolation }): IsolationStrategy;
  /** Where the registry connects for a tenant's own tables. */
  connectionTarget(record: StorageRecord): ConnectionTarget;
  /** Modules the tenant's plan enables; 'all' for a tenant without a plan. Cached briefly. */
  planModules(tenantId: string): Promise<'all' | readonly string[]>;
  /** The tenant's plan modules (with overrides), limits and subscription expiry. Cached like planModules. */
  planState(tenantId: string): Promise<PlanState>;
  /** Whether a tenant has a cluster schema (e.g. emr_2026). Only "yes" is cached: schemas are not dropped while in use. */
  clusterExists(record: StorageRecord, module: ClusterModule, year: number): Promise<boolean>;
  /**
   * Tenancy events. Publish one after any change to a tenant or its domains has committed: every
   * process drops what it cached about that tenant (and only that tenant).
   */
  events: TenancyEvents;
  close(): Promise<void>;
};

export async function createTenancy(options: {
  config: Config;
  logger: Logger;
  central: CentralDatabase;
  redis: RedisClient | undefined;
  events: TenancyEvents;
  /** Default: TENANCY_ENCRYPTION_KEYS, or the development key in `.data/`. */
  keyRing?: KeyRing;
}): Promise<Tenancy> {
  const { config, logger, central, events } = options;
  const admin = makeCentralServerAdmin(central.url, central.pool);
  const keyRing = options.keyRing ?? (await loadKeyRing(config));
  const servers = makeDbServers({ central: admin, keyRing, logger });
  const naming = makeStorageNaming(config.tenancy.storagePrefix);
  const migrations = await loadMigrationSets(config.migrationsDir);
  const strategies = {
    APP: makeCentralSchemaIsolation(admin, naming.appSchema),
    CENTRAL_TENANT: makeCentralSchemaIsolation(admin, naming.groupSchema),
    DATABASE: makeDatabaseIsolation(servers, naming.tenantStorage, config.tenancy.storagePrefix.replace(/_+$/, ''), migrations, (module, year) =>
      naming.clusterSchema({ isolation: 'DATABASE', schemaName: 'public' }, module, year),
    ),
    SCHEMA: makeSchemaIsolation(servers, config.tenancy.sharedTenantsDatabase, naming.tenantStorage),
  };
  const registry = createClientRegistry({
    factories: levelClientFactories,
    limits: config.registry,
    onPoolError: (error: Error) => logger.warn({ err: error }, 'tenant database connection lost'),
    // Which request uses which connection, so a request past its deadline can cancel its statement.
    onStatement: noteStatement,
  });
  const cachedDirectory = await createTenantDirectory({ pool: central.pool, config, logger, redis: options.redis, events });
  // Routing is synchronous: a tenant's server is loaded before its chain is handed out.
  const directory = withServersLoaded(cachedDirectory, servers);
  const planModulesCache = new LRUCache<string, PlanState>({ max: config.tenancy.cacheMax, ttl: config.tenancy.cacheTtlMs });
  /** tenant id → cluster schemas known to exist, so one tenant's entries can be dropped together. */
  const knownClusters = new LRUCache<string, Set<string>>({ max: 100_000 });
  // Per tenant, in every process: a plan change arrives as TenantUpdated; a deleted tenant's
  // schemas go with it. A plan read in flight when its tenant changes is not cached (it may predate it).
  let planChanges = 0;
  const planChangedAt = new LRUCache<string, number>({ max: 100_000, ttl: 60_000 });
  const stopListening = events.on('*', (event) => {
    if (changesTenantIdentity(event)) {
      planModulesCache.delete(event.tenantId);
      planChangedAt.set(event.tenantId, ++planChanges);
    }
    if (event.type === 'TenantDeleted') knownClusters.delete(event.tenantId);
  });
  const stopResync = events.onResync(() => planModulesCache.clear());
  async function planState(tenantId: string): Promise<PlanState> {
    const cached = planModulesCache.get(tenantId);
    if (cached) return cached;
    const started = planChanges;
    const state = await loadPlanState(central.pool, tenantId);
    if ((planChangedAt.get(tenantId) ?? 0) <= started) planModulesCache.set(tenantId, state);
    return state;
  }
  const strategyFor = (record: { level: TenantLevelName; isolation: Isolation }) =>
    record.level === 'TENANT' ? strategies[record.isolation] : strategies[record.level];

  return {
    config,
    logger,
    central: central.pool,
    centralPrisma: central.prisma,
    admin,
    servers,
    keyRing,
    naming,
    migrations,
    registry,
    directory,
    strategyFor,
    connectionTarget: (record) => strategyFor(record).connectionTarget(record),
    planModules: async (tenantId) => (await planState(tenantId)).modules,
    planState,
    async clusterExists(record, module, year) {
      const schema = naming.clusterSchema(record, module, year);
      if (knownClusters.get(record.id)?.has(schema)) return true;
      const lease = registry.lease({ ...strategyFor(record).connectionTarget(record), schema }, 'cluster');
      try {
        const rows = await lease.client.$queryRaw<unknown[]>`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
        if (rows.length > 0) knownClusters.set(record.id, (knownClusters.get(record.id) ?? new Set()).add(schema));
        return rows.length > 0;
      } finally {
        lease.release();
      }
    },
    events,
    async close() {
      stopListening();
      stopResync();
      await directory.close();
      await registry.close();
      await servers.close();
    },
  };
}
