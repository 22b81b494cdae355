-- Consecutive failed sign-ins per user (Okta's password-policy lockout) and the System Log
-- (/api/v1/logs). Keep in step with the other backend's 0009_lockout_system_log.sql.

CREATE TABLE signin_failures (
    user_id      TEXT NOT NULL PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure BIGINT NOT NULL
);

CREATE TABLE system_log (
    seq            BIGSERIAL PRIMARY KEY,
    uuid           TEXT NOT NULL,
    published_ms   BIGINT NOT NULL,
    event_type     TEXT NOT NULL,
    severity       TEXT NOT NULL,
    outcome_result TEXT NOT NULL,
    actor_id       TEXT,
    actor_alternate_id TEXT,
    -- Every target id, space-separated with a space at each end (" id1 id2 ").
    target_ids     TEXT NOT NULL,
    -- Lower-cased words of the event, for `q=`.
    search_text    TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE UNIQUE INDEX system_log_uuid_key ON system_log (uuid);
CREATE INDEX system_log_published ON system_log (published_ms);
CREATE INDEX system_log_event_type ON system_log (event_type, seq);
