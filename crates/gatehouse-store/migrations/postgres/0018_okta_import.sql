-- Okta's classic Authentication API and the move from an Okta org (issue 24).
--
-- `session_tokens`: the single-use `sessionToken` that `POST /api/v1/authn` returns, kept only
-- as its SHA-256; spending one is a single `DELETE ... RETURNING`, so exactly one request (on
-- any node) gets it.
--
-- `password_migrations`: users imported from a source org whose password is still only known
-- there. At their first sign-in the password is checked against the source's
-- `/api/v1/authn`; on success the hash is stored and the row deleted in one transaction.
--
-- Identical on both backends (keep in step with the other backend's 0018_okta_import.sql).
CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time BIGINT NOT NULL,
    created BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX session_tokens_expires_at_idx ON session_tokens (expires_at);

CREATE TABLE password_migrations (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    source_url TEXT NOT NULL,
    created BIGINT NOT NULL
);
