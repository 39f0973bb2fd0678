-- Soft-deleted tenants keep their row (and data) with status DELETED until the grace period ends.
-- The status list follows TENANT_STATUSES in src/tenancy/model.ts.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
  CHECK (status IN ('PROVISIONING', 'ACTIVE', 'SUSPENDED', 'FAILED', 'DELETING', 'DELETED'));

-- Keys that would name storage that is not theirs (see RESERVED_KEY in src/tenancy/model.ts): a
-- SCHEMA tenant keyed x_emr_2026 would own tenant x's cluster schema tenant_x_emr_2026, and
-- tenant_tpl_* is the template new tenant databases are cloned from.
ALTER TABLE tenants ADD CONSTRAINT tenants_key_not_reserved
  CHECK (key !~ '^tpl_' AND key !~ '_(emr|pos|scm)_[0-9]{4}$');
