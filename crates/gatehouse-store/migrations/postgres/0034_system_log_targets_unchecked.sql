-- `system_log_targets` without its foreign key to `system_log` (PostgreSQL only). Every row
-- the key checked cost the token response that wrote it a lookup of its own fresh event and a
-- row lock on it (`SELECT … FOR KEY SHARE`: a trigger call, ~8 µs of backend CPU and a WAL
-- record per target row). The rows are written only with their event, in the same statement
-- (group_commit/postgres.rs), and deleted only with it: the retention purge deletes an event's
-- targets in the statement that deletes the event (sql/logs.rs), which the `ON DELETE CASCADE`
-- did before. SQLite keeps its key (checked in the same process, no lock, no log record).
ALTER TABLE system_log_targets DROP CONSTRAINT system_log_targets_event_seq_fkey;
