-- User consent (Okta's "Require consent"): one row per scope a user allowed a client on an
-- authorization server (`/api/v1/users/{userId}/grants`). Revoking deletes the row, so the
-- user is asked again. Keep in step with migrations/postgres/0011_consent_grants.sql.

CREATE TABLE consent_grants (
    id             TEXT NOT NULL PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    issuer         TEXT NOT NULL,
    auth_server_id TEXT NOT NULL,
    scope_id       TEXT NOT NULL,
    scope_name     TEXT NOT NULL,
    created        BIGINT NOT NULL,
    last_updated   BIGINT NOT NULL
);
CREATE UNIQUE INDEX consent_grants_user_client_scope_key
    ON consent_grants (user_id, client_id, issuer, scope_id);
CREATE INDEX consent_grants_client_id_idx ON consent_grants (client_id);
