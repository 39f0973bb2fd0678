-- TOTP secrets join the key ring (TENANCY_ENCRYPTION_KEYS) like every other stored secret, so
-- keys:rotate covers them. Rows written before this keep a NULL key id: the ring reads them with the
-- legacy key (ENCRYPTION_KEY) until rotation moves them onto its newest key.
ALTER TABLE accounts ADD COLUMN two_factor_secret_key_id text;
