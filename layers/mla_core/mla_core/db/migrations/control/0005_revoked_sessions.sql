-- Sessions signed out before their access token expires. Supabase Auth revokes a session's refresh
-- tokens at sign-out, but its access token stays valid until it expires (up to an hour); every
-- request reads its session here in the same query that reads the user's row
-- (`mla_core.identity.accounts.signed_in`), so a sign-out holds from the next request on. A row is
-- needed only while an access token of that session can still be valid: sign-out prunes rows older
-- than a day (Supabase's longest access-token lifetime). A password reset ends every session of the
-- person at once: tokens issued before `users.sessions_valid_after` are refused the same way.
-- Runs with search_path = platform.

CREATE TABLE revoked_sessions (
    session_id text PRIMARY KEY,                     -- the access token's `session_id` claim
    user_id    uuid NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_revoked_at_idx ON revoked_sessions (revoked_at);

ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;
