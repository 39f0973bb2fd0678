-- Fleet migrations (tenantgraph tenants:migrate, the migrateTenants mutation): one row per run and
-- one per tenant of the run, so progress survives the process and a rerun can resume.
CREATE TABLE migration_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- APP | CENTRAL_TENANT | TENANT | CLUSTER, or NULL for every level.
  level        text CHECK (level IN ('APP', 'CENTRAL_TENANT', 'TENANT', 'CLUSTER')),
  status       text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'DONE', 'FAILED', 'INTERRUPTED')),
  requested_by text NOT NULL,
  parallel     integer NOT NULL CHECK (parallel BETWEEN 1 AND 64),
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX migration_runs_created_idx ON migration_runs (created_at DESC);

CREATE TABLE migration_run_items (
  run_id      uuid NOT NULL REFERENCES migration_runs (id) ON DELETE CASCADE,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
  error       text,
  -- [{ "target": "tenant:clinic_a", "file": "0002_x.sql", "durationMs": 12 }]
  applied     jsonb NOT NULL DEFAULT '[]'::jsonb,
  duration_ms integer,
  started_at  timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, tenant_id)
);
CREATE INDEX migration_run_items_order_idx ON migration_run_items (run_id, position);
CREATE INDEX migration_run_items_tenant_idx ON migration_run_items (tenant_id);
