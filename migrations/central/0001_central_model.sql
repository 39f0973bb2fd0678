-- The central (landlord) model: every tenant, its domains, plans, accounts, tokens and audit trail.
-- Later migrations fill in behaviour; the tables exist from the start so the model is whole.

CREATE TABLE db_servers (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL UNIQUE,
  host          text NOT NULL,
  port          integer NOT NULL DEFAULT 5432 CHECK (port BETWEEN 1 AND 65535),
  admin_username text NOT NULL,
  admin_password_ciphertext text,
  admin_password_key_id text,
  max_tenants   integer,
  is_default    boolean NOT NULL DEFAULT false,
  is_active     boolean NOT NULL DEFAULT true,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- At most one default server.
CREATE UNIQUE INDEX db_servers_one_default ON db_servers (is_default) WHERE is_default;

CREATE TABLE plans (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key         text NOT NULL UNIQUE,
  name        text NOT NULL,
  description text,
  price_cents integer NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
  currency    char(3) NOT NULL DEFAULT 'USD',
  billing_interval text NOT NULL DEFAULT 'month' CHECK (billing_interval IN ('month', 'year')),
  trial_days  integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
  features    jsonb NOT NULL DEFAULT '[]'::jsonb,
  modules     jsonb NOT NULL DEFAULT '[]'::jsonb,
  limits      jsonb NOT NULL DEFAULT '{}'::jsonb,
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  level         text NOT NULL CHECK (level IN ('APP', 'CENTRAL_TENANT', 'TENANT')),
  parent_id     uuid REFERENCES tenants (id) ON DELETE RESTRICT,
  key           text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{1,40}$'),
  slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name          text NOT NULL,
  status        text NOT NULL DEFAULT 'PROVISIONING'
                CHECK (status IN ('PROVISIONING', 'ACTIVE', 'SUSPENDED', 'FAILED', 'DELETING')),
  isolation     text NOT NULL DEFAULT 'DATABASE' CHECK (isolation IN ('DATABASE', 'SCHEMA')),
  db_server_id  uuid REFERENCES db_servers (id) ON DELETE RESTRICT,
  database_name text,
  schema_name   text,
  db_username   text,
  db_password_ciphertext text,
  db_password_key_id text,
  plan_id       uuid REFERENCES plans (id) ON DELETE SET NULL,
  trial_ends_at timestamptz,
  expires_at    timestamptz,
  timezone      text NOT NULL DEFAULT 'UTC',
  maintenance   boolean NOT NULL DEFAULT false,
  maintenance_message text,
  homepage_enabled boolean NOT NULL DEFAULT false,
  homepage_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz,
  -- The hierarchy: an APP has no parent, a group and a tenant always have one.
  CONSTRAINT tenants_parent_by_level CHECK ((level = 'APP') = (parent_id IS NULL)),
  -- Keys name storage, so they are unique within a level.
  CONSTRAINT tenants_level_key_unique UNIQUE (level, key)
);
CREATE INDEX tenants_parent_idx ON tenants (parent_id);
CREATE INDEX tenants_status_idx ON tenants (status) WHERE deleted_at IS NULL;
CREATE INDEX tenants_level_status_idx ON tenants (level, status);
CREATE INDEX tenants_db_server_idx ON tenants (db_server_id);
CREATE INDEX tenants_plan_idx ON tenants (plan_id);
CREATE INDEX tenants_expires_at_idx ON tenants (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE domains (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  domain      text NOT NULL UNIQUE CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
  is_primary  boolean NOT NULL DEFAULT false,
  is_verified boolean NOT NULL DEFAULT false,
  verified_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_tenant_idx ON domains (tenant_id);
-- One primary domain per tenant.
CREATE UNIQUE INDEX domains_one_primary ON domains (tenant_id) WHERE is_primary;

CREATE TABLE subscriptions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  plan_id     uuid NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
  status      text NOT NULL DEFAULT 'ACTIVE'
              CHECK (status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED', 'EXPIRED')),
  starts_at   timestamptz NOT NULL DEFAULT now(),
  ends_at     timestamptz,
  trial_ends_at timestamptz,
  canceled_at timestamptz,
  metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_tenant_status_idx ON subscriptions (tenant_id, status);

CREATE TABLE accounts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  name          text NOT NULL,
  password_hash text,
  is_system_admin boolean NOT NULL DEFAULT false,
  is_active     boolean NOT NULL DEFAULT true,
  last_login_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  role        text NOT NULL,
  abilities   jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT memberships_account_tenant_unique UNIQUE (account_id, tenant_id)
);
CREATE INDEX memberships_tenant_idx ON memberships (tenant_id);

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
  account_id   uuid REFERENCES accounts (id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_prefix text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  abilities    jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id);
CREATE INDEX api_tokens_prefix_idx ON api_tokens (token_prefix);

CREATE TABLE impersonation_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  impersonator_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  token_hash    text NOT NULL UNIQUE,
  reason        text,
  redirect_url  text,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX impersonation_tokens_tenant_idx ON impersonation_tokens (tenant_id);

CREATE TABLE audit_logs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid REFERENCES tenants (id) ON DELETE SET NULL,
  actor_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
  impersonator_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  request_id   text,
  ip_address   inet,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_tenant_created_idx ON audit_logs (tenant_id, created_at DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (action);
