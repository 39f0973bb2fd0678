-- Cluster module SCM, one schema per year (scm_<year>) inside the tenant's storage.
CREATE TABLE stock_movements (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  catalog_item_id uuid NOT NULL,
  quantity        integer NOT NULL CHECK (quantity <> 0),
  reason          text,
  moved_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_item_idx ON stock_movements (catalog_item_id, moved_at);
