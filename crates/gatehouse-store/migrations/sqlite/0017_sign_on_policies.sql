-- Sign-on policies (issue 19): Okta's OKTA_SIGN_ON (global session) and ACCESS_POLICY (app
-- authentication) policies, their rules, and which access policy each app uses. Group
-- conditions and rule actions are JSON documents (the actions in the shape of
-- gatehouse_core::domain::RuleActions). Keep in step with the other backend's file of the same name.
CREATE TABLE sign_on_policies (
    id            TEXT NOT NULL PRIMARY KEY,
    policy_type   TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    priority      BIGINT NOT NULL,
    status        TEXT NOT NULL,
    -- 1 for the built-in default policy, which cannot be deleted.
    system        BIGINT NOT NULL DEFAULT 0,
    -- JSON list of group ids; empty: everyone.
    groups_include TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE UNIQUE INDEX sign_on_policies_type_name_key ON sign_on_policies (policy_type, name);

CREATE TABLE sign_on_policy_rules (
    id             TEXT NOT NULL PRIMARY KEY,
    policy_id      TEXT NOT NULL REFERENCES sign_on_policies (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    priority       BIGINT NOT NULL,
    status         TEXT NOT NULL,
    system         BIGINT NOT NULL DEFAULT 0,
    groups_include TEXT NOT NULL,
    groups_exclude TEXT NOT NULL,
    actions        TEXT NOT NULL,
    created        BIGINT NOT NULL,
    last_updated   BIGINT NOT NULL
);
CREATE INDEX sign_on_policy_rules_policy_id_idx ON sign_on_policy_rules (policy_id);
CREATE UNIQUE INDEX sign_on_policy_rules_name_key ON sign_on_policy_rules (policy_id, name);

-- An app's ACCESS_POLICY (Okta's `_links.accessPolicy`); at most one per app.
CREATE TABLE app_access_policies (
    app_id    TEXT NOT NULL PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL REFERENCES sign_on_policies (id) ON DELETE CASCADE
);
CREATE INDEX app_access_policies_policy_id_idx ON app_access_policies (policy_id);

-- The default policy: everyone, the password alone.
INSERT INTO sign_on_policies (id, policy_type, name, description, priority, status, system,
                              groups_include, created, last_updated)
VALUES ('00psignondefault0000', 'OKTA_SIGN_ON', 'Default Policy',
        'The default policy applies in all situations if no other policy applies.',
        99, 'ACTIVE', 1, '[]', CAST(strftime('%s', 'now') AS INTEGER),
        CAST(strftime('%s', 'now') AS INTEGER));
INSERT INTO sign_on_policy_rules (id, policy_id, name, priority, status, system, groups_include,
                                  groups_exclude, actions, created, last_updated)
VALUES ('0prsignondefault0000', '00psignondefault0000', 'Default Rule', 99, 'ACTIVE', 1, '[]',
        '[]',
        '{"kind":"SignOn","access":"ALLOW","factor":null,"remember_device_by_default":false,"max_session_idle_minutes":120,"max_session_lifetime_minutes":0,"use_persistent_cookie":false}',
        CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER));
