-- WebAuthn ceremonies in progress (issue 19): what webauthn-rs needs between a registration's
-- or an authentication's begin and finish requests (the challenge, the credentials allowed,
-- the user-verification policy), so that any node can finish what another began. One row per
-- binding (SHA-256 of the session cookie or of the pending sign-in) and purpose ('register',
-- 'authenticate'): a new begin replaces the row, the finish deletes it with RETURNING (used
-- once), and rows live CEREMONY_TTL (300 s). Credentials themselves are user_factors rows
-- (factor_type 'webauthn'; their signature counter in last_used_step). Keep in step with the
-- other backend's 0019_webauthn_ceremonies.sql.
CREATE TABLE webauthn_ceremonies (
    binding_hash TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state_json   TEXT NOT NULL,
    created      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (binding_hash, purpose)
);
CREATE INDEX webauthn_ceremonies_expires_at_idx ON webauthn_ceremonies (expires_at);
