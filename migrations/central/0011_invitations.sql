-- Invitations: how an account made without a password (inviteMember, a new tenant's first admin)
-- sets one and signs in. The token is random (256 bits) and shown once to whoever invited; only
-- its SHA-256 is stored (as for API and refresh tokens), so this table cannot sign anyone in.
-- An invitation names (tenant, email), not the membership: a first admin's invitation is made with
-- the tenant row, before provisioning's admin step makes the account and membership it points at.
-- Accepting needs that membership to exist and the account to have no password yet.
CREATE TABLE invitations (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email        text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  expires_at   timestamptz NOT NULL,
  -- The account that invited; NULL for the CLI and for system-made invitations.
  invited_by   uuid REFERENCES accounts (id) ON DELETE SET NULL,
  accepted_at  timestamptz,
  -- Set by resendInvitation (a newer token replaces it), removeMember, and by another invitation's
  -- acceptance (the account has a password now).
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- The pending invitations of one person in one tenant (resend, remove) and of one email (acceptance voids the rest).
CREATE INDEX invitations_pending_idx ON invitations (email, tenant_id) WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id);
