-- CENTRAL_TENANT (group) level (schema group_<key> in the central database): shared by a chain's clinics.
CREATE TABLE practitioners (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  specialty  text,
  email      text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
