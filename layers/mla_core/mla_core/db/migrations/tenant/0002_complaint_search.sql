-- The dashboard's complaint list: full-text search (Tamil and Hindi words tokenise with the
-- 'simple' configuration) and indexes behind each filter, newest first.
ALTER TABLE complaints ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple',
        coalesce(description, '') || ' ' || coalesce(location, '') || ' ' || coalesce(landmark, '') || ' ' ||
        coalesce(caller_name, '') || ' ' || reference::text)
) STORED;
CREATE INDEX complaints_search_idx ON complaints USING gin (search);
CREATE INDEX complaints_category_idx ON complaints (category, created_at DESC, id DESC);
CREATE INDEX complaints_assignee_idx ON complaints (assigned_to, created_at DESC, id DESC);
CREATE INDEX complaints_language_idx ON complaints (language, created_at DESC, id DESC);
CREATE INDEX complaints_oldest_idx ON complaints (created_at, id);
-- The overview's counts come from one index-only scan; time to resolve from recent resolutions.
CREATE INDEX complaints_counts_idx ON complaints (status, category, sla_due_at);
CREATE INDEX complaints_resolved_idx ON complaints (resolved_at) INCLUDE (created_at) WHERE resolved_at IS NOT NULL;
