-- Management API tokens (SSWS). Keep in step with migrations/postgres/0002_api_tokens.sql.
-- Only the SHA-256 of a token's value is stored.

CREATE TABLE api_tokens (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created    BIGINT NOT NULL,
    last_used  BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
