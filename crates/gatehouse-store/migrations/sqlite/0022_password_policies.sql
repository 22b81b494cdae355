-- Password policies (issue 20): Okta's PASSWORD policy type, with its settings (complexity,
-- age, lockout) as one JSON document in the shape of gatehouse_core::domain::PasswordSettings,
-- and each user's last password hashes for the policy's history rule. The default policy is
-- created at first start (seeded from the lockout settings of gatehouse.toml), not here.
-- Keep in step with the other backend's file of the same name.
CREATE TABLE password_policies (
    id             TEXT NOT NULL PRIMARY KEY,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    priority       BIGINT NOT NULL,
    status         TEXT NOT NULL,
    -- 1 for the built-in default policy, which cannot be deleted.
    system         BIGINT NOT NULL DEFAULT 0,
    -- JSON list of group ids; empty: everyone.
    groups_include TEXT NOT NULL,
    settings       TEXT NOT NULL,
    created        BIGINT NOT NULL,
    last_updated   BIGINT NOT NULL
);
CREATE UNIQUE INDEX password_policies_name_key ON password_policies (name);

-- A user's earlier password hashes, newest kept; pruned to the largest historyCount in use.
CREATE TABLE password_history (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash     TEXT NOT NULL,
    created  BIGINT NOT NULL
);
CREATE INDEX password_history_user_idx ON password_history (user_id, created);
