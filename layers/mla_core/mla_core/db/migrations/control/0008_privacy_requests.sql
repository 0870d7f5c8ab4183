-- Requests under the DPDP Act: each export of a person's data and each erasure, by whom, when and what it
-- touched. The person is named by `subject_digest` (HMAC-SHA256 of `tenant:+91…` under the platform's
-- privacy key, `mla_core.core.privacy.subject_digest`), never by their number. No foreign key to tenants:
-- a record outlives its office. `pending` holds what an erasure could not remove once it committed
-- (recordings' objects, Redis keys), retried later; `completed_at` is set when nothing is left pending.
-- Runs with search_path = platform.

CREATE TABLE privacy_requests (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('export', 'erase')),
    subject_digest text NOT NULL CHECK (subject_digest ~ '^[0-9a-f]{64}$'),
    actor_type     text NOT NULL CHECK (actor_type IN ('user', 'super_admin_cli', 'system')),
    actor_id       text,                                   -- platform.users.user_id, or the CLI's --by
    counts         jsonb NOT NULL DEFAULT '{}'::jsonb,     -- rows by kind, never a value
    pending        jsonb NOT NULL DEFAULT '{}'::jsonb,     -- {"objects": [...], "redis_keys": [...]}
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);
CREATE INDEX privacy_requests_subject_idx ON privacy_requests (tenant_id, subject_digest, created_at);
CREATE INDEX privacy_requests_recent_idx ON privacy_requests (tenant_id, created_at DESC);
CREATE INDEX privacy_requests_pending_idx ON privacy_requests (created_at) WHERE completed_at IS NULL;
