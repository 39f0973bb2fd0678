-- Yearly cluster schemas (emr_2027, pos_2027, ...) per tenant and their state, so
-- generateClusterSchemas is idempotent and clusterSchemas shows which tenants are not ready.
CREATE TABLE cluster_schemas (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  module     text NOT NULL CHECK (module IN ('emr', 'pos', 'scm')),
  year       integer NOT NULL CHECK (year BETWEEN 1900 AND 2100),
  status     text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CREATING', 'READY', 'FAILED')),
  error      text,
  attempts   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, module, year)
);
CREATE INDEX cluster_schemas_year_status_idx ON cluster_schemas (year, status);
