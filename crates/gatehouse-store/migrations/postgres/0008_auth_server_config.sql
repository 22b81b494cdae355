-- Custom authorization servers' configuration: scopes, claims, access policies and policy
-- rules, each one JSON document (`body`). Keep in step with the other backend's
-- 0008_auth_server_config.sql.

CREATE TABLE auth_server_objects (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    auth_server_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    parent_id      TEXT,
    unique_key     TEXT NOT NULL,
    priority       BIGINT NOT NULL,
    body           TEXT NOT NULL,
    created        BIGINT NOT NULL
);
CREATE UNIQUE INDEX auth_server_objects_unique_key
    ON auth_server_objects (auth_server_id, kind, unique_key);
CREATE INDEX auth_server_objects_parent_id_idx ON auth_server_objects (parent_id);
