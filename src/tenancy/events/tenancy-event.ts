/**
 * What happens to tenants, as typed events. Every event names the tenant it is about
 * (`tenantId`); steps that can fail come in present/past pairs (`ProvisioningTenant` →
 * `TenantProvisioned`), so a listener can tell "started" from "done".
 *
 * Publish an event after the transaction that made the change has committed: listeners
 * (caches in every process) re-read the database when they get it.
 */
import { z } from 'zod';
import { CLUSTER_MODULES, TENANT_STATUSES, type ClusterModule, type TenantStatus } from '../model.js';

export type TenancyEvent =
  /** A tenant row (and its domains) was inserted. */
  | { type: 'TenantCreated'; tenantId: string }
  /** Name, slug, domains, plan, maintenance or anything else of the row changed. */
  | { type: 'TenantUpdated'; tenantId: string }
  | { type: 'TenantStatusChanged'; tenantId: string; from: TenantStatus; to: TenantStatus }
  /** `hard`: the row is gone; otherwise it is soft-deleted (`deleted_at` set). */
  | { type: 'TenantDeleted'; tenantId: string; hard: boolean }
  | { type: 'TenantMigrated'; tenantId: string; target: string; applied: string[] }
  | { type: 'ClusterSchemaCreated'; tenantId: string; module: ClusterModule; year: number }
  | { type: 'ProvisioningTenant'; tenantId: string }
  | { type: 'TenantProvisioned'; tenantId: string }
  /** The tenant's cache generation was bumped: every process drops the generation it holds. */
  | { type: 'TenantCacheFlushed'; tenantId: string };

export type TenancyEventType = TenancyEvent['type'];

export type EventOf<T extends TenancyEventType> = Extract<TenancyEvent, { type: T }>;

/** Whether the handler runs in the process that published the event, or got it over Redis. */
export type EventOrigin = 'local' | 'remote';

const tenantId = z.string().min(1).max(64);
const status = z.enum(TENANT_STATUSES);

/** Validates events that come from outside the process (Redis). */
export const tenancyEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('TenantCreated'), tenantId }),
  z.object({ type: z.literal('TenantUpdated'), tenantId }),
  z.object({ type: z.literal('TenantStatusChanged'), tenantId, from: status, to: status }),
  z.object({ type: z.literal('TenantDeleted'), tenantId, hard: z.boolean() }),
  z.object({ type: z.literal('TenantMigrated'), tenantId, target: z.string(), applied: z.array(z.string()) }),
  z.object({ type: z.literal('ClusterSchemaCreated'), tenantId, module: z.enum(CLUSTER_MODULES), year: z.number().int() }),
  z.object({ type: z.literal('ProvisioningTenant'), tenantId }),
  z.object({ type: z.literal('TenantProvisioned'), tenantId }),
  z.object({ type: z.literal('TenantCacheFlushed'), tenantId }),
]) satisfies z.ZodType<TenancyEvent>;

/**
 * Events after which a tenant's cached identity (its chain: status, slug, domains, deletion,
 * maintenance) may be stale. Migrations, new cluster schemas and cache flushes leave it as is.
 */
export function changesTenantIdentity(event: TenancyEvent): boolean {
  switch (event.type) {
    case 'TenantCreated':
    case 'TenantUpdated':
    case 'TenantStatusChanged':
    case 'TenantDeleted':
    case 'ProvisioningTenant':
    case 'TenantProvisioned':
      return true;
    case 'TenantMigrated':
    case 'ClusterSchemaCreated':
    case 'TenantCacheFlushed':
      return false;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown tenancy event ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Events after which a lookup that found nothing may now find something (a new tenant, a new
 * slug or domain). Status changes do not, so a fleet-wide suspension leaves misses cached, except
 * a restore: the tenant's released domains come back.
 */
export function mayAddLookups(event: TenancyEvent): boolean {
  return event.type === 'TenantCreated' || event.type === 'TenantUpdated' || (event.type === 'TenantStatusChanged' && event.from === 'DELETED');
}
