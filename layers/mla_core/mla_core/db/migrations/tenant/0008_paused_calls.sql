-- The calls missed while the office's agent was paused (mla_core.calls.missed: the agents page counts
-- and lists the last 30 days' on every view): a partial index holds only those rows, so the page
-- reads a few entries however many calls the office has had. Runs with search_path = tenant_<id>.
CREATE INDEX calls_paused_idx ON calls (started_at DESC) WHERE outcome = 'agent_paused';
