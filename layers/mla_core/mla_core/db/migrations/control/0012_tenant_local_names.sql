-- A new tenant's MLA and constituency names in a language's own script, as the super admin enters
-- them (`tenants.request.TenantRequest.mla_name_local` / `constituency_local`, e.g. {"ta": "மயிலாப்பூர்"}):
-- provisioning writes them into the office's first agent config, as it does the greeting. Runs with
-- search_path = platform.

ALTER TABLE tenants ADD COLUMN mla_name_local jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE tenants ADD COLUMN constituency_local jsonb NOT NULL DEFAULT '{}'::jsonb;
