-- Service apps: single-use client-assertion ids and Okta API scope grants.
-- Keep in step with migrations/sqlite/0004_service_apps.sql.

-- RFC 7523 §3: a client assertion's `jti` may be used once. Rows live until the assertion's
-- `exp`, then `purge_expired` removes them.
CREATE TABLE client_assertion_jtis (
    client_id  TEXT COLLATE "C" NOT NULL,
    jti        TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expires_at_idx ON client_assertion_jtis (expires_at);

-- `POST /api/v1/apps/{appId}/grants`: the okta.* scopes a service app may request.
CREATE TABLE app_grants (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    app_id       TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scope_id     TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    source       TEXT NOT NULL,
    created_by   TEXT,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX app_grants_app_scope_key ON app_grants (app_id, scope_id);
