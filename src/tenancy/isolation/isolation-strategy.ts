import type pg from 'pg';
import { type ConnectionTarget } from '../registry/registry-types.js';
import { type Isolation, type TenantLevelName } from '../model.js';
import { type CentralServerAdmin, type ServerAdmin } from './server-admin.js';

/** The storage columns of a `tenants` row. */
export type StorageRecord = {
  id: string;
  level: TenantLevelName;
  key: string;
  isolation: Isolation;
  databaseName: string | null;
  schemaName: string | null;
  /** The `db_servers` row holding a TENANT's storage; null or absent: the central server. */
  dbServerId?: string | null;
  /** The TENANT's own role, when it has one: the registry runs its statements as this role. */
  dbUsername?: string | null;
};

/** Admin access by server: the strategies find each tenant's server through it. */
export type ServerAdmins = {
  central: CentralServerAdmin;
  /**
   * The admin of a tenant's server. Synchronous (routing calls it per request): the server must
   * have been loaded (`DbServers.ensure`), which the tenancy's directory does before it hands out
   * a chain. Throws for a server that is not loaded.
   */
  adminFor(serverId: string | null | undefined): ServerAdmin;
};

/** Names a new tenant's storage gets; written to its row before anything is created. */
export type StorageNames = { databaseName: string; schemaName: string };

/**
 * Where one kind of tenant keeps its data, and how that storage is made and removed. One
 * implementation per kind: DATABASE and SCHEMA for tenants, central schemas for apps and groups.
 */
export interface IsolationStrategy {
  /** Storage names for a key (validated inside). */
  namesFor(key: string): StorageNames;
  /** Where the registry connects for this tenant's own tables. */
  connectionTarget(record: StorageRecord): ConnectionTarget;
  /** Creates empty-or-template storage; fails if it already exists. */
  createStorage(record: StorageRecord): Promise<void>;
  /** Removes the storage and everything in it, including cluster schemas. Idempotent. */
  dropStorage(record: StorageRecord): Promise<void>;
  exists(record: StorageRecord): Promise<boolean>;
  /** Runs `fn` with an administrative pool on the database holding this tenant's storage. */
  withStoragePool<T>(record: StorageRecord, fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
}

export function requireNames(record: StorageRecord): { databaseName: string; schemaName: string } {
  if (!record.databaseName || !record.schemaName) throw new Error(`tenant ${record.id} has no storage names`);
  return { databaseName: record.databaseName, schemaName: record.schemaName };
}
