import { registerEnumType } from 'type-graphql';

/** Levels of the hierarchy (DESIGN §1); also the argument of @tenantLevel. */
export enum TenantLevel {
  CENTRAL = 'CENTRAL',
  APP = 'APP',
  CENTRAL_TENANT = 'CENTRAL_TENANT',
  TENANT = 'TENANT',
}

registerEnumType(TenantLevel, {
  name: 'TenantLevel',
  description: 'CENTRAL (landlord) → APP → CENTRAL_TENANT (group) → TENANT.',
});

export enum TenantIsolation {
  DATABASE = 'DATABASE',
  SCHEMA = 'SCHEMA',
}

registerEnumType(TenantIsolation, { name: 'TenantIsolation', description: 'Where a TENANT keeps its data: its own database, or its own schema.' });

export enum TenantStatus {
  PROVISIONING = 'PROVISIONING',
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
  FAILED = 'FAILED',
  DELETING = 'DELETING',
}

registerEnumType(TenantStatus, { name: 'TenantStatus' });
