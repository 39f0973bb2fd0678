-- Domain verification: the token a tenant serves at /.well-known/tenantgraph-verification/<token>
-- (random, not a secret: it only proves control of the host), and when the last check ran.
ALTER TABLE domains ADD COLUMN verification_token text NOT NULL DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
ALTER TABLE domains ADD COLUMN verification_checked_at timestamptz;
ALTER TABLE domains ADD COLUMN verification_error text;
