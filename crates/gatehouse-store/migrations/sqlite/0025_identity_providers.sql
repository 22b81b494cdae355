-- Upstream OpenID Connect identity providers (Okta's /api/v1/idps) and the single-use states
-- of sign-ins sent to them. Keep in step with the other backend's 0025_identity_providers.sql
-- (PostgreSQL's ids are TEXT COLLATE "C").

-- `settings` is the provider's configuration as JSON (endpoints, scopes, policies, routing);
-- the client secret is sealed (AES-256-GCM, the secret box) and never stored in clear.
CREATE TABLE idps (
    id                   TEXT NOT NULL PRIMARY KEY,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    settings             TEXT NOT NULL,
    client_secret_sealed TEXT,
    created              BIGINT NOT NULL,
    last_updated         BIGINT NOT NULL
);
CREATE UNIQUE INDEX idps_name_key ON idps (name);

-- A sign-in sent upstream: the `state` is stored hashed and spent by the callback (one DELETE
-- ... RETURNING); bound to the browser through the sign-in form's CSRF token (its hash), and
-- to the login transaction it resumes. The PKCE verifier is sealed.
CREATE TABLE idp_states (
    state_hash           TEXT NOT NULL PRIMARY KEY,
    idp_id               TEXT NOT NULL REFERENCES idps (id) ON DELETE CASCADE,
    transaction_id       TEXT NOT NULL,
    browser_hash         TEXT NOT NULL,
    nonce                TEXT NOT NULL,
    code_verifier_sealed TEXT NOT NULL,
    redirect_uri         TEXT NOT NULL,
    expires_at           BIGINT NOT NULL
);
CREATE INDEX idp_states_expires ON idp_states (expires_at);
CREATE INDEX user_sources_external ON user_sources (source, external_id);
