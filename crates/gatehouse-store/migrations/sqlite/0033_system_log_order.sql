-- The System Log in Okta's order, `published` then `seq`, each `/api/v1/logs` page one index
-- range scan that stops after the page (issue 21): every index the list reads ends with
-- `(published_ms, seq)`, and `target.id eq` looks its events up in `system_log_targets` (one
-- row per event and target, written with the event) instead of a LIKE over `target_ids`.
-- Rows go with their event (ON DELETE CASCADE: the retention purge deletes events only).
-- Keep in step with the other backend's 0033_system_log_order.sql; this one splits
-- `target_ids` (" id1 id2 ") with a recursive CTE, PostgreSQL with string_to_array.
DROP INDEX system_log_published;
DROP INDEX system_log_event_type;
DROP INDEX system_log_actor_id;
CREATE INDEX system_log_published_seq ON system_log (published_ms, seq);
CREATE INDEX system_log_event_type_published ON system_log (event_type, published_ms, seq);
CREATE INDEX system_log_actor_published ON system_log (actor_id, published_ms, seq);

CREATE TABLE system_log_targets (
    event_seq          INTEGER NOT NULL REFERENCES system_log (seq) ON DELETE CASCADE,
    target_id          TEXT NOT NULL,
    -- The event's `published_ms`, so that one index serves a target's events in order.
    event_published_ms BIGINT NOT NULL,
    CONSTRAINT system_log_targets_pkey PRIMARY KEY (event_seq, target_id)
);
CREATE INDEX system_log_targets_target
    ON system_log_targets (target_id, event_published_ms, event_seq);

-- Backfill: the rows the store would have written with each event (tests/system_log_order.rs
-- runs this part again and compares).
WITH RECURSIVE split (seq, published_ms, id, rest) AS (
    SELECT seq, published_ms, '', substr(target_ids, 2) FROM system_log
    UNION ALL
    SELECT seq, published_ms, substr(rest, 1, instr(rest, ' ') - 1),
           substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE instr(rest, ' ') > 0
)
INSERT OR IGNORE INTO system_log_targets (event_seq, target_id, event_published_ms)
SELECT seq, id, published_ms FROM split WHERE id <> '';
