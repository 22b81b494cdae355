-- The LDAP import's high-water mark (issue 22): the greatest value of the change attribute
-- (`modifyTimestamp`, or AD's `uSNChanged`/`whenChanged`) an import has seen, so an
-- incremental import asks only for entries changed since. One row per source. Keep in step
-- with the other backend's 0031_sync_marks.sql (identical here).
CREATE TABLE sync_marks (
    source       TEXT NOT NULL PRIMARY KEY,
    -- What the mark is about (URL, user base, filter, attribute): a mark taken from another
    -- directory or filter is not used.
    scope        TEXT NOT NULL,
    -- NULL: nothing seen yet (the next import is a full one).
    mark         TEXT,
    -- JSON array of the DNs whose change attribute equals `mark`: the `>=` search finds them
    -- again, and they are not counted as changed.
    mark_entries TEXT NOT NULL,
    -- When the last full import finished (unix seconds).
    full_sync_at BIGINT,
    -- Bumped by each save: a save expecting an older version loses (two imports at once).
    version      BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Finding the Gatehouse user of a group's `member` DN; DNs compare case-insensitively.
CREATE INDEX user_sources_external_id ON user_sources (source, lower(external_id));
