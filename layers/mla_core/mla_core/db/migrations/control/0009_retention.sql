-- Retention of personal data (mla_core.privacy.retention). `tenants.retention` holds an office's own
-- days (core.retention.RetentionPolicy's fields; what it leaves out is the default). Each run of the job
-- records, per office, what it removed (a dry run records nothing) and what it could not remove yet
-- (`pending`: recordings' objects). A deprovisioned office's archive, once dropped, leaves
-- `archived_schema` NULL and `archive_dropped_at` set. Runs with search_path = platform.

ALTER TABLE tenants ADD COLUMN retention jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE tenants ADD COLUMN archive_dropped_at timestamptz;

CREATE TABLE retention_runs (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,                               -- no foreign key: a run outlives its office
    ran_at    timestamptz NOT NULL DEFAULT now(),
    now       timestamptz NOT NULL,                        -- the moment the policy was applied as of
    counts    jsonb NOT NULL DEFAULT '{}'::jsonb,          -- rows by kind, never a value
    pending   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX retention_runs_tenant_idx ON retention_runs (tenant_id, ran_at DESC);
