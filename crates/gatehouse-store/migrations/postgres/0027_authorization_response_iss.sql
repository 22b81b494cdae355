-- RFC 9207 per authorization server: 1 puts `iss` in every authorization response (errors
-- included) and says so in discovery; 0 (the default, as Okta) leaves it off error responses.
-- Keep in step with the other backend's 0027_authorization_response_iss.sql.
ALTER TABLE auth_servers ADD COLUMN response_iss BIGINT NOT NULL DEFAULT 0;
