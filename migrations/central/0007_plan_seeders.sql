-- Seeders (src/seeders/, by registry name) that provisioning runs in a new tenant of the plan.
ALTER TABLE plans ADD COLUMN seeders jsonb NOT NULL DEFAULT '[]'::jsonb;
