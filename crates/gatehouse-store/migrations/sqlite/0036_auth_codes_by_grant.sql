-- The purge of spent grants (sql/purge.rs) asks, for every grant over a day old, whether a code
-- still refers to it. Without an index that question scanned `auth_codes` once per grant:
-- every live code times every old grant, in the write lock on SQLite. One more index entry
-- per code written; `auth_codes` keeps only live codes, so it stays small.
CREATE INDEX auth_codes_grant_id_idx ON auth_codes (grant_id);
