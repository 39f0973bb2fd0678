-- Provisioning as a durable job (issue 9 item 1): one run per attempt at provisioning a tenant,
-- and the steps of each run with their state, so `tenant.provisioning` can show progress, a
-- failure names its step, and a process that dies midway leaves a record the next one finishes.
-- Which worker owns a running attempt is a session advisory lock (it dies with the process), not
-- a column: see src/tenancy/provisioning/provisioning-driver.ts.
CREATE TABLE provisioning_runs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  attempt     integer NOT NULL CHECK (attempt >= 1),
  status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'UNDOING', 'ACTIVE', 'FAILED')),
  -- What the steps need that the tenant row does not hold (plan seeders, first admin, who created it). Never a secret.
  input       jsonb NOT NULL DEFAULT '{}',
  -- What the steps made that undo must remove (e.g. the first admin's account, when this run created it).
  state       jsonb NOT NULL DEFAULT '{}',
  error       text,
  started_at  timestamptz,
  finished_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, attempt)
);
CREATE INDEX provisioning_runs_open_idx ON provisioning_runs (status);

CREATE TABLE provisioning_steps (
  run_id      uuid NOT NULL REFERENCES provisioning_runs (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'UNDONE')),
  duration_ms integer,
  error       text,
  started_at  timestamptz,
  PRIMARY KEY (run_id, name)
);
