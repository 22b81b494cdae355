-- Where users and groups come from when it is not Gatehouse itself (LDAP / Active Directory
-- for now), and named leases so that one node at a time runs a scheduled job (the LDAP import)
-- when several share the database. Keep in step with the other backend's 0019_ldap.sql.

-- A user without a row here is a Gatehouse (local) user. `external_id` is the directory's
-- name for the entry (its DN), kept for the administrator's eyes.
CREATE TABLE user_sources (
    user_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    synced_at   BIGINT NOT NULL
);
CREATE INDEX user_sources_source ON user_sources (source);

CREATE TABLE group_sources (
    group_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    synced_at   BIGINT NOT NULL
);
CREATE INDEX group_sources_source ON group_sources (source);

-- A lease is held by `holder` until `expires_at` (unix seconds); another holder may take it
-- only once it has expired.
CREATE TABLE leases (
    name       TEXT NOT NULL PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
