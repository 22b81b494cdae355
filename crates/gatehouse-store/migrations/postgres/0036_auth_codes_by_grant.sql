-- The purge of spent grants (sql/purge.rs) asks, for every grant over a day old, whether a code
-- still refers to it. Without an index that question scanned `auth_codes` once per grant:
-- every live code times every old grant, in the write lock on SQLite. One more index entry
-- per code written; `auth_codes` keeps only live codes, so it stays small.
CREATE INDEX auth_codes_grant_id_idx ON auth_codes (grant_id);

-- PostgreSQL only: every refresh (no rotation) moves its token's `expires_at` (the idle window
-- restarts). With `expires_at` indexed that update could never be HOT: a new row version
-- and new entries in all three indexes (two of them at random places: at 1M tokens each a
-- page not in memory and, after a checkpoint, a full-page image in the WAL). Without the index,
-- and with room left on each page, the update stays on its page: 13 KiB of WAL a refresh
-- instead of 32 KiB at 1M tokens (cost curve, kept seed). The purge walks the tokens by their
-- primary key instead (sql/purge.rs). SQLite keeps its index: there an update rewrites only
-- the row and the index entries of the columns it changes.
DROP INDEX refresh_tokens_expires_at_idx;
ALTER TABLE refresh_tokens SET (fillfactor = 85);
