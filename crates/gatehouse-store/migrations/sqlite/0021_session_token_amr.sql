-- Okta's classic Authentication API with a second factor (issue 19): a `sessionToken` issued
-- after `POST /api/v1/authn/factors/{id}/verify` carries the factors given with the password,
-- so the session it opens has them (`amr`, space-separated RFC 8176 values). NULL: a token
-- from the password alone (`pwd`), as every token issued before this migration.
--
-- Identical on both backends (keep in step with the other backend's 0021_session_token_amr.sql).
ALTER TABLE session_tokens ADD COLUMN amr TEXT;
