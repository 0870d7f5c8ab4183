-- Search by a word's start and its usual spellings (issue 15, item 6): the complaint's words as
-- platform.search_vector indexes them (control migration 0011), in place of 0002's whole words. Adding
-- the stored column computes it for every existing complaint (the table is rewritten once, under this
-- migration's lock); the GIN index is then built on it. Runs with search_path = tenant_<id>.
ALTER TABLE complaints DROP COLUMN search;
ALTER TABLE complaints ADD COLUMN search tsvector GENERATED ALWAYS AS (platform.search_vector(
    coalesce(description, '') || ' ' || coalesce(location, '') || ' ' || coalesce(landmark, '') || ' ' ||
    coalesce(caller_name, '') || ' ' || reference::text)
) STORED;
CREATE INDEX complaints_search_idx ON complaints USING gin (search);
