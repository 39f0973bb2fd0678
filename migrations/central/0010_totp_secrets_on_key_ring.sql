-- TOTP secrets join the key ring (TENANCY_ENCRYPTION_KEYS) like every other stored secret, so
-- keys:rotate covers them. Rows written before this keep a NULL key id: the ring reads them with the
-- legacy key (ENCRYPTION_KEY) until rotation moves them onto its newest key.
ALTER TABLE accounts ADD COLUMN two_factor_secret_key_id text;

-- The time step of the last TOTP code accepted: a code (or an earlier one) is refused if seen again
-- within its ±1-period window, so a code read over a shoulder or from a log cannot be replayed.
ALTER TABLE accounts ADD COLUMN two_factor_last_step bigint;
