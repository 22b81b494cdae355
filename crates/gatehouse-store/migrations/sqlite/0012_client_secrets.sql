-- Okta's client secrets (/api/v1/apps/{id}/credentials/secrets): an app holds up to two, each
-- ACTIVE or INACTIVE, so a secret can be rotated without downtime. Keep in step with the other
-- backend's 0012_client_secrets.sql.

CREATE TABLE app_client_secrets (
    id            TEXT NOT NULL PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    status        TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE INDEX app_client_secrets_app ON app_client_secrets (app_id, created);

-- Each app's one secret becomes its first (the sealing context is the app's, so the sealed
-- value moves as it is); apps.client_secret_sealed is no longer used.
INSERT INTO app_client_secrets (id, app_id, secret_sealed, status, created, last_updated)
SELECT 'ocs' || substr(lower(hex(randomblob(9))), 1, 17), id, client_secret_sealed, 'ACTIVE', last_updated, last_updated
FROM apps WHERE client_secret_sealed IS NOT NULL;
UPDATE apps SET client_secret_sealed = NULL;
