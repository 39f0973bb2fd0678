-- TENANT level (database tenant_<key>, or schema tenant_<key> in the shared tenants database).
CREATE TABLE patients (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mrn         text NOT NULL UNIQUE,
  first_name  text NOT NULL,
  last_name   text NOT NULL,
  birth_date  date,
  email       text,
  phone       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The patient list is ordered, and keyset-paginated, by (last_name, first_name, id).
CREATE INDEX patients_name_idx ON patients (last_name, first_name, id);

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid,
  email       text NOT NULL UNIQUE,
  name        text NOT NULL,
  role        text NOT NULL DEFAULT 'staff',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
