-- Soft-deleted tenants keep their row (and data) with status DELETED until the grace period ends.
-- The status list follows TENANT_STATUSES in src/tenancy/model.ts.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
  CHECK (status IN ('PROVISIONING', 'ACTIVE', 'SUSPENDED', 'FAILED', 'DELETING', 'DELETED'));
