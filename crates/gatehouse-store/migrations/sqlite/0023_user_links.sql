-- One-time links mailed to (or printed for) a user (issue 20): activation (Okta's
-- `lifecycle/activate`, the user sets their first password) and password reset
-- (`lifecycle/reset_password`, `credentials/forgot_password`, "Forgot password?").
--
-- Only the SHA-256 of the link's token is kept. Spending one is a single
-- `DELETE ... RETURNING`, so exactly one request (on any node) gets it; a new link for the same
-- user and purpose replaces the older ones.
--
-- Identical on both backends (keep in step with the other backend's 0023_user_links.sql).
CREATE TABLE user_links (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_links_user_idx ON user_links (user_id, purpose);
CREATE INDEX user_links_expires_at_idx ON user_links (expires_at);
