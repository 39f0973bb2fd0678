-- Invoice numbers INV-<year>-<000001>, sequential per tenant and year without gaps: one counter
-- row per pos_<year> schema, incremented in the transaction that inserts the invoice. Its row
-- lock orders concurrent invoices; a rolled-back invoice rolls its number back too.
CREATE TABLE invoice_counters (
  id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  last_number integer  NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

-- Invoices made before this file carry random or short numbers (INV-2026-39D3DE49, INV-2026-00):
-- renumber them in the order they were issued, so the year has one format and one sequence.
WITH ordered AS (
  SELECT id,
         row_number() OVER (ORDER BY issued_at, created_at, id) AS n,
         extract(year FROM issued_at AT TIME ZONE 'UTC')::int AS year
  FROM invoices
)
UPDATE invoices SET number = 'INV-' || ordered.year || '-' || lpad(ordered.n::text, 6, '0')
FROM ordered WHERE invoices.id = ordered.id;

INSERT INTO invoice_counters (id, last_number) SELECT 1, count(*) FROM invoices;
