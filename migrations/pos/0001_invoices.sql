-- Cluster module POS, one schema per year (pos_<year>) inside the tenant's storage.
CREATE TABLE invoices (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id  uuid NOT NULL,
  number      text NOT NULL UNIQUE,
  issued_at   timestamptz NOT NULL DEFAULT now(),
  total_cents integer NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_patient_idx ON invoices (patient_id);

CREATE TABLE invoice_lines (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  invoice_id       uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  catalog_item_id  uuid NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id);
