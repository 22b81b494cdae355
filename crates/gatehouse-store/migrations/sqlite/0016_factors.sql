-- Multi-factor sign-in (issue 19): enrolled factors, recovery codes, and second-step sign-ins
-- waiting for a factor. Keep in step with the other backend's 0016_factors.sql (the only
-- difference: PostgreSQL's id columns are TEXT COLLATE "C", so listings order as on SQLite).
--
-- user_factors: one row per enrolled factor. factor_type is Okta's (token:software:totp,
-- webauthn), provider GOOGLE / OKTA / FIDO, status PENDING_ACTIVATION or ACTIVE.
-- secret_sealed is the TOTP seed sealed with the encryption key (crypto/secret_box.rs);
-- credential_json a WebAuthn credential. last_used_step is the last accepted TOTP time step:
-- a code is spent with "UPDATE ... WHERE last_used_step IS NULL OR last_used_step < step",
-- so a code (or an older one) is accepted once however many requests race.
CREATE TABLE user_factors (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    factor_type     TEXT NOT NULL,
    provider        TEXT NOT NULL,
    status          TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    secret_sealed   TEXT,
    credential_json TEXT,
    last_used_step  BIGINT,
    created         BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL
);
CREATE INDEX user_factors_user_idx ON user_factors (user_id, created);

-- One-time recovery codes, kept only as keyed fingerprints (SecretBox::fingerprint). A code
-- is spent with a conditional UPDATE on used_at: exactly one use succeeds.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created   BIGINT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in whose password was checked and that waits for a second factor (or for a first
-- enrollment), shared by every node. Bound to the CSRF token of the sign-in form and, for the
-- authorize flow, to its login transaction; a step-up names the password-only session it
-- upgrades. Taken (deleted) once when it completes; failures also count in the user's lockout.
CREATE TABLE mfa_pending (
    id_hash        TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_hash      TEXT NOT NULL,
    transaction_id TEXT,
    session_hash   TEXT,
    return_to      TEXT,
    enroll         BIGINT NOT NULL DEFAULT 0,
    attempts       BIGINT NOT NULL DEFAULT 0,
    -- Set (the amr, space-separated) once the factor was given but the sign-in still shows
    -- something first (the new recovery codes after an enrollment).
    verified_amr   TEXT,
    created        BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX mfa_pending_expires_at_idx ON mfa_pending (expires_at);
