-- Deactivating, suspending or resetting the password of a user revokes their grants (and the
-- tokens under them) in one statement each; this finds a user's grants without a scan. Keep in
-- step with the other backend's 0013_grants_by_user.sql.
CREATE INDEX grants_user_id_idx ON grants (user_id);
