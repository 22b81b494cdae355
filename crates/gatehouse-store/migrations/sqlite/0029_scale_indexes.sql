-- Indexes behind the management API's queries at a million users and ten million System Log
-- events (issue 21). Every listed query pages by keyset on `id` (users) or `seq` (System
-- Log), so each index ends with that column: an equality on the leading expression then
-- serves `... AND id > $after ORDER BY id LIMIT n` without a sort. Case-insensitive profile
-- searches compare `lower(column)`, which these expression indexes serve as long as the query
-- spells the same expression; a prefix (`sw`) is written as a `>= AND <` range because
-- SQLite's LIKE optimisation does not apply to expressions. `login_lower` needs no new index:
-- the unique `users_login_lower_key` serves its ranges. Keep in step with the other
-- backend's 0029_scale_indexes.sql.
CREATE INDEX users_status_id ON users (status, id);
CREATE INDEX users_last_updated_id ON users (last_updated, id);
CREATE INDEX users_email_lower_id ON users (lower(email), id);
CREATE INDEX users_first_name_lower_id ON users (lower(first_name), id);
CREATE INDEX users_last_name_lower_id ON users (lower(last_name), id);

CREATE INDEX system_log_actor_id ON system_log (actor_id, seq);
