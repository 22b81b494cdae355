-- What `gatehouse import okta` carried from a source org (issue 24): one row per top-level
-- record (user, group, app, authorization server, trusted origin) with the source's id and the
-- id it has here. A rerun compares the source's lists with these rows to find what was deleted
-- at the source (reported, or deactivated / removed with `--deleted`). Rows of a removed record
-- are deleted with it by the importer; nothing else reads this table.
--
-- Identical on both backends (keep in step with the other backend's 0028_import_records.sql).
CREATE TABLE import_records (
    source_url TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (source_url, kind, source_id)
);
