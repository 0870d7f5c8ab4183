-- The control plane: tenants, their numbers and provisioning progress. Lives in its own schema
-- (`platform`), never exposed through PostgREST. Runs with search_path = platform.

CREATE TABLE tenants (
    tenant_id            text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9]{10}$'),
    status               text NOT NULL CHECK (status IN ('provisioning', 'active', 'failed', 'deleting', 'deleted')),
    mla_name             text NOT NULL,
    constituency         text NOT NULL,
    state                text NOT NULL,
    languages            text[] NOT NULL,
    admin_email          text NOT NULL,
    admin_name           text,
    greeting             text,
    schema_name          text NOT NULL,
    room_name            text NOT NULL,
    sip_dispatch_rule_id text,
    admin_user_id        uuid,
    attempt              integer NOT NULL DEFAULT 1,
    execution_arn        text,
    error                jsonb,
    archived_schema      text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    activated_at         timestamptz,
    deleted_at           timestamptz
);
CREATE INDEX tenants_status_created_idx ON tenants (status, created_at DESC, tenant_id DESC);
CREATE INDEX tenants_created_idx ON tenants (created_at DESC, tenant_id DESC);
-- One live tenant per admin email (a deleted tenant's email may be reused).
CREATE UNIQUE INDEX tenants_admin_email_idx ON tenants (lower(admin_email)) WHERE status <> 'deleted';

-- A dialed number belongs to at most one tenant: the primary key is what makes two concurrent
-- requests for the same number end with exactly one winner.
CREATE TABLE tenant_phone_numbers (
    e164       text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    position   integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_phone_numbers_tenant_idx ON tenant_phone_numbers (tenant_id);

CREATE TABLE provisioning_steps (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    name        text NOT NULL,
    position    integer NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'compensated')),
    attempt     integer NOT NULL,
    started_at  timestamptz,
    finished_at timestamptz,
    error       text,
    output      jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (tenant_id, name)
);

-- The durable copy of each tenant's agent config; Redis holds the hot copy and is rebuilt from here.
CREATE TABLE agent_configs (
    tenant_id  text PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    version    integer NOT NULL,
    config     jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Dashboard logins by tenant (Supabase Auth holds the credentials; this is our index of them).
CREATE TABLE users (
    user_id    uuid PRIMARY KEY,
    tenant_id  text REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    email      text NOT NULL,
    role       text NOT NULL CHECK (role IN ('super_admin', 'mla_admin', 'staff')),
    full_name  text,
    disabled   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant_idx ON users (tenant_id);
CREATE UNIQUE INDEX users_email_idx ON users (lower(email));

-- Idempotency-Key: the first response to a key is stored with the request's hash and replayed.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status_code  integer NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
