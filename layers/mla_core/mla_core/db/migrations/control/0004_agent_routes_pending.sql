-- An office whose agent change is committed here but not yet confirmed in LiveKit (its SIP dispatch
-- rule) and Redis (configs and number routes). Postgres is the source of truth: a change writes its
-- row in the same transaction, and `mla_core.agents.sync.sync_routes` deletes it once LiveKit and
-- Redis equal Postgres. `released_numbers` and `removed_agents` are what the office let go of, which
-- LiveKit or Redis may still hold. Runs with search_path = platform.

CREATE TABLE agent_routes_pending (
    tenant_id        text PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    since            timestamptz NOT NULL DEFAULT now(),   -- the first change not yet confirmed
    released_numbers text[] NOT NULL DEFAULT '{}',
    removed_agents   text[] NOT NULL DEFAULT '{}'
);
