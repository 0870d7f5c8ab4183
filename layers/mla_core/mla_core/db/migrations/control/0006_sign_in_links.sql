-- The links we email: an invitation to an office (or to a new office, in its welcome email) and a
-- password reset. Only a hash of the link's token is kept (sha256 of `secrets.token_urlsafe(32)`,
-- 256 random bits), so a copy of this table opens nothing. A link works once (`used_at`, set in the
-- transaction that accepts it), until `expires_at`; sending a new one deletes the person's unused
-- links of the same purpose. Runs with search_path = platform.

CREATE TABLE sign_in_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose    text NOT NULL CHECK (purpose IN ('invite', 'reset')),
    user_id    uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tenant_id  text REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX sign_in_links_user_idx ON sign_in_links (user_id, purpose);

-- When the person's Supabase Auth login was made. An invited member has a row in `users` from the
-- invitation on (the team page lists them; their role can change, they can be disabled) but no login
-- until they accept (NULL here, written so by the invitation): Supabase Auth is called then, with the
-- `user_id` chosen here. Any other row comes with its login (a super admin's, from the CLI), and so
-- did every row before this migration.
ALTER TABLE users ADD COLUMN login_created_at timestamptz DEFAULT now();
UPDATE users SET login_created_at = created_at;
