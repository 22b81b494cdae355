-- The JWS algorithm of each authorization server's new signing keys (RS256, ES256, EdDSA).
-- Servers created before this migration keep RS256, Okta's algorithm.
-- Keep in step with the other backend's 0006_signing_alg.sql.

ALTER TABLE auth_servers ADD COLUMN signing_alg TEXT NOT NULL DEFAULT 'RS256';
