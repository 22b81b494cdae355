-- RFC 8628 device authorizations. Both codes are kept only as SHA-256 hashes; the user code is
-- looked up by its hash. `status`: pending, approved, denied, redeemed. Polls, decisions and
-- the redemption are conditional single-row updates. Keep in step with the other backend's
-- 0020_device_codes.sql.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    auth_server_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    poll_interval BIGINT NOT NULL,
    last_polled_at BIGINT,
    -- 1 when the latest poll came sooner than the interval (answered `slow_down`).
    last_poll_too_fast BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    user_id TEXT,
    auth_time BIGINT,
    amr TEXT NOT NULL DEFAULT ''
);
CREATE INDEX device_codes_expires_at_idx ON device_codes (expires_at);
-- Grants that started from a device code: their refreshes are decided by the access policy as
-- the device grant, as a code exchange's are as authorization_code.
CREATE TABLE device_grants (
    grant_id TEXT PRIMARY KEY,
    created BIGINT NOT NULL
);
