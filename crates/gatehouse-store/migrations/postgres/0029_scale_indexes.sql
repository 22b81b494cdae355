-- Indexes behind the management API's queries at a million users and ten million System Log
-- events (issue 21). Every listed query pages by keyset on `id` (users) or `seq` (System
-- Log), so each index ends with that column: an equality on the leading expression then
-- serves `... AND id > $after ORDER BY id LIMIT n` without a sort. Case-insensitive profile
-- searches compare `lower(column) COLLATE "C"`: a prefix (`sw`) is written as a `>= AND <`
-- range, which is a prefix match only under byte order whatever the database's collation,
-- and which (unlike LIKE with a bound pattern) a generic plan can still use. Keep in step
-- with the other backend's 0029_scale_indexes.sql.
CREATE INDEX users_status_id ON users (status, id);
CREATE INDEX users_last_updated_id ON users (last_updated, id);
CREATE INDEX users_email_lower_id ON users ((lower(email) COLLATE "C"), id);
CREATE INDEX users_first_name_lower_id ON users ((lower(first_name) COLLATE "C"), id);
CREATE INDEX users_last_name_lower_id ON users ((lower(last_name) COLLATE "C"), id);
CREATE INDEX users_login_lower_id ON users ((login_lower COLLATE "C"), id);

CREATE INDEX system_log_actor_id ON system_log (actor_id, seq);
