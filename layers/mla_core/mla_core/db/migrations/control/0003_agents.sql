-- An office may have several voice agents, each answering its own numbers. `agent_configs` was keyed
-- by tenant (one agent each); it is now keyed by agent. Provisioning creates `<tenant>-main`, the
-- office's main agent, which cannot be deleted; the others are added from the dashboard.
-- Runs with search_path = platform.

ALTER TABLE agent_configs ADD COLUMN agent_id text;
UPDATE agent_configs SET agent_id = config ->> 'agent_id';
ALTER TABLE agent_configs ALTER COLUMN agent_id SET NOT NULL;
ALTER TABLE agent_configs DROP CONSTRAINT agent_configs_pkey;
ALTER TABLE agent_configs ADD PRIMARY KEY (agent_id);
CREATE INDEX agent_configs_tenant_idx ON agent_configs (tenant_id);
