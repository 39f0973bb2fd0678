import { registerEnumType } from 'type-graphql';
import { DATA_LEVELS, enumObject, ISOLATIONS, TENANT_STATUSES } from '../../tenancy/model.js';

/** Levels of the hierarchy (DESIGN §1); also the argument of @tenantLevel. From the model's DATA_LEVELS. */
export const TenantLevel = enumObject(DATA_LEVELS);
export type TenantLevel = (typeof DATA_LEVELS)[number];

registerEnumType(TenantLevel, {
  name: 'TenantLevel',
  description: 'CENTRAL (landlord) → APP → CENTRAL_TENANT (group) → TENANT.',
});

export const TenantIsolation = enumObject(ISOLATIONS);
export type TenantIsolation = (typeof ISOLATIONS)[number];

registerEnumType(TenantIsolation, { name: 'TenantIsolation', description: 'Where a TENANT keeps its data: its own database, or its own schema.' });

export const TenantStatus = enumObject(TENANT_STATUSES);
export type TenantStatus = (typeof TENANT_STATUSES)[number];

registerEnumType(TenantStatus, { name: 'TenantStatus' });
