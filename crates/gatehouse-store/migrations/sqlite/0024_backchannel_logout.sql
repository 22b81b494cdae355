-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the apps each session signed
-- in to, and the durable outbox of logout tokens still to deliver, drained by a background
-- worker on any node. Keep in step with the other backend's 0024_backchannel_logout.sql.

-- Recorded at /authorize for apps that registered a backchannel_logout_uri. Ending the session
-- moves its rows to logout_outbox in the same transaction. Purged once the session expires.
CREATE TABLE session_apps (
    session_hash   TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    auth_server_id TEXT NOT NULL,
    sid            TEXT NOT NULL,
    created        BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (session_hash, client_id, issuer)
);
CREATE INDEX session_apps_user_id ON session_apps (user_id);
CREATE INDEX session_apps_expires_at ON session_apps (expires_at);

-- One logout token to deliver. `id` is the session, client and issuer joined; a worker claims
-- a due row by setting claimed_until (one conditional UPDATE), and either deletes it
-- (delivered, or given up after the last attempt) or sets the next attempt.
CREATE TABLE logout_outbox (
    id              TEXT NOT NULL PRIMARY KEY,
    client_id       TEXT NOT NULL,
    auth_server_id  TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    sid             TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL
);
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt_at);
