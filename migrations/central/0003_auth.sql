-- Sign-in, refresh tokens, two-factor, impersonation sessions and an append-only audit log (issue 11).

-- Two-factor sign-in: the TOTP secret is stored encrypted (AES-256-GCM, see src/infra/crypto/),
-- recovery codes as SHA-256 hashes that are removed when used.
ALTER TABLE accounts
  ADD COLUMN two_factor_secret_ciphertext text,
  ADD COLUMN two_factor_enabled_at timestamptz,
  ADD COLUMN two_factor_recovery_hashes jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Rotating refresh tokens. Each sign-in starts a family; every refresh rotates the token within
-- it. Presenting an already-rotated token means it leaked: the whole family is revoked.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id   uuid NOT NULL,
  account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account_idx ON refresh_tokens (account_id);

-- Impersonation: codes issued by the CLI have no impersonating account (issued_by = 'cli');
-- a redeemed code is tied to the access token it produced so endImpersonation can revoke it.
ALTER TABLE impersonation_tokens
  ALTER COLUMN impersonator_id DROP NOT NULL,
  ADD COLUMN issued_by text NOT NULL DEFAULT 'api' CHECK (issued_by IN ('api', 'cli')),
  ADD COLUMN access_token_hash text UNIQUE,
  ADD COLUMN access_expires_at timestamptz,
  ADD COLUMN ended_at timestamptz,
  ADD CONSTRAINT impersonation_tokens_impersonator_by_issuer CHECK ((issued_by = 'api') = (impersonator_id IS NOT NULL));

ALTER TABLE audit_logs
  ADD COLUMN user_agent text,
  ADD COLUMN actor_label text;
CREATE INDEX audit_logs_created_idx ON audit_logs (id DESC);

-- Append-only. The application usually connects as the database owner, whom REVOKE does not bind,
-- so a trigger refuses changes too. The one UPDATE allowed is the foreign keys' ON DELETE SET NULL
-- (a deleted tenant or account leaves its rows, with the reference cleared).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM PUBLIC;
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF (NEW.id, NEW.action, NEW.target_type, NEW.target_id, NEW.request_id, NEW.ip_address, NEW.details, NEW.created_at, NEW.user_agent, NEW.actor_label)
         IS NOT DISTINCT FROM
       (OLD.id, OLD.action, OLD.target_type, OLD.target_id, OLD.request_id, OLD.ip_address, OLD.details, OLD.created_at, OLD.user_agent, OLD.actor_label)
       AND (NEW.tenant_id IS NOT DISTINCT FROM OLD.tenant_id OR NEW.tenant_id IS NULL)
       AND (NEW.actor_account_id IS NOT DISTINCT FROM OLD.actor_account_id OR NEW.actor_account_id IS NULL)
       AND (NEW.impersonator_account_id IS NOT DISTINCT FROM OLD.impersonator_account_id OR NEW.impersonator_account_id IS NULL) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
