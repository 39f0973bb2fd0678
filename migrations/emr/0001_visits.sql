-- Cluster module EMR, one schema per year (emr_<year>) inside the tenant's storage.
CREATE TABLE visits (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id      uuid NOT NULL,
  practitioner_id uuid,
  visited_at      timestamptz NOT NULL DEFAULT now(),
  reason          text,
  notes           text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visits_patient_idx ON visits (patient_id, visited_at);
