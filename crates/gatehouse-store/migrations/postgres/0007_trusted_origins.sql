-- Okta's Trusted Origins (/api/v1/trustedOrigins): origins allowed to make CORS requests or to
-- be redirected to. Keep in step with the other backend's 0007_trusted_origins.sql.

CREATE TABLE trusted_origins (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name            TEXT NOT NULL,
    origin          TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    status          TEXT NOT NULL,
    created         BIGINT NOT NULL,
    created_by      TEXT,
    last_updated    BIGINT NOT NULL,
    last_updated_by TEXT
);
CREATE UNIQUE INDEX trusted_origins_origin_key ON trusted_origins (origin);
