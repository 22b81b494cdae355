-- Gatehouse schema, SQLite flavour. Keep in step with migrations/postgres/0001_init.sql:
-- same tables, columns and index names (error mapping relies on them).
-- Timestamps are Unix seconds; list columns and client settings are JSON text.

CREATE TABLE users (
    id               TEXT NOT NULL PRIMARY KEY,
    status           TEXT NOT NULL,
    login            TEXT NOT NULL,
    login_lower      TEXT NOT NULL,
    email            TEXT NOT NULL,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    display_name     TEXT,
    password_hash    TEXT,
    created          BIGINT NOT NULL,
    last_updated     BIGINT NOT NULL,
    activated        BIGINT,
    status_changed   BIGINT,
    last_login       BIGINT,
    password_changed BIGINT
);
CREATE UNIQUE INDEX users_login_lower_key ON users (login_lower);

CREATE TABLE groups (
    id           TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    group_type   TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_name_key ON groups (name);
CREATE INDEX groups_group_type_idx ON groups (group_type);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id_idx ON group_members (user_id);

CREATE TABLE apps (
    id                   TEXT NOT NULL PRIMARY KEY,
    name                 TEXT NOT NULL,
    label                TEXT NOT NULL,
    status               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed TEXT,
    settings             TEXT NOT NULL,
    created              BIGINT NOT NULL,
    last_updated         BIGINT NOT NULL
);
CREATE UNIQUE INDEX apps_client_id_key ON apps (client_id);

CREATE TABLE app_groups (
    app_id   TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_groups_group_id_idx ON app_groups (group_id);

CREATE TABLE app_users (
    app_id  TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_users_user_id_idx ON app_users (user_id);

CREATE TABLE auth_servers (
    id           TEXT NOT NULL PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    audiences    TEXT NOT NULL,
    issuer_mode  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);

-- `seq` records insertion order, which breaks ties between keys created in the same second.
CREATE TABLE signing_keys (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    kid                TEXT NOT NULL,
    auth_server_id     TEXT NOT NULL,
    alg                TEXT NOT NULL,
    status             TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    public_jwk         TEXT NOT NULL,
    created            BIGINT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_kid_key ON signing_keys (kid);
CREATE INDEX signing_keys_auth_server_id_idx ON signing_keys (auth_server_id);

CREATE TABLE sessions (
    id_hash    TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    amr        TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE login_transactions (
    id           TEXT NOT NULL PRIMARY KEY,
    csrf_hash    TEXT NOT NULL,
    request_json TEXT NOT NULL,
    created      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX login_transactions_expires_at_idx ON login_transactions (expires_at);

CREATE TABLE auth_codes (
    code_hash       TEXT NOT NULL PRIMARY KEY,
    grant_id        TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    auth_server_id  TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT,
    auth_time       BIGINT NOT NULL,
    amr             TEXT NOT NULL,
    session_id_hash TEXT,
    created         BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX auth_codes_expires_at_idx ON auth_codes (expires_at);

CREATE TABLE grants (
    id             TEXT NOT NULL PRIMARY KEY,
    client_id      TEXT NOT NULL,
    user_id        TEXT,
    auth_server_id TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    auth_time      BIGINT,
    amr            TEXT NOT NULL,
    created        BIGINT NOT NULL,
    revoked_at     BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE access_tokens (
    jti        TEXT NOT NULL PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);

CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
