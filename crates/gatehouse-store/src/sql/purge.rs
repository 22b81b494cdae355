//! The periodic purge of expired codes, sessions, tokens and counters, and of spent grants
//! ([`TokenStore::purge_expired`](gatehouse_core::store::TokenStore::purge_expired)), run at
//! startup and every ten minutes.
//!
//! It used to be one transaction of eight statements. The grants' statement reads every grant
//! (their age has no index, and at a million users most grants are old anyway), all of it
//! holding SQLite's write lock, so every sign-in and token response waited behind it: 0.2–0.5 s
//! at 1M young grants (the cost curve's SQLite sign-in at 1M users, measured right after
//! startup: p99 1.03 s, −24% of its rate), 10–14 s at 1M grants over a day old. Now each
//! statement is its own transaction in the node's write queue ([`crate::write_gate`]), and the
//! grants are checked [`GRANT_CHUNK`] at a time along their primary key, with a rest after each
//! chunk, as the System Log purge does
//! ([`crate::sql::logs`]). On PostgreSQL the refresh tokens are walked the same way (their
//! expiry has no index there: migration 0036). Each statement stands alone: the expired rows
//! are gone whichever commits first, and a grant is deleted only once nothing refers to it.
//!
//! Spent grants. Codes and tokens are deleted only here (using, rotating and revoking them
//! only mark them), so a grant is left without any as its last one expires: the deletes of
//! expired codes and tokens return their grants' ids ([`SpentGrants`]), and only those grants
//! are probed ([`PROBE_GRANTS`]), so a pass costs what expired, not the number of grants. The
//! walk over every grant (~16 s of CPU at 1M grants over a day old, even with nothing due)
//! still catches what that misses — a grant under a day old when its last token went (the
//! probe skips it, as the walk does), a pass that stopped between the two deletes, grants
//! spent before this release, rows deleted behind the store's back — but runs at most once a
//! day ([`GRANT_WALK_EVERY`]): when it last completed is kept in `meta` ([`GRANT_WALK_META`]),
//! so a restart does not walk again. It also runs when a pass expired too many grants' tokens
//! to remember ([`MAX_SPENT_GRANTS`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{MetaStore, StoreResult};

use crate::error::db_err;
use crate::rows::to_json;
use crate::sql::SqlStore;

/// Rows past their expiry that name no grant, one statement each (`$1`: now). Each is served by
/// an `expires_at` (or `window_start`) index and deletes what expired since the last run.
const EXPIRED: [&str; 4] = [
    "DELETE FROM login_transactions WHERE expires_at <= $1",
    "DELETE FROM sessions WHERE expires_at <= $1",
    // A window is at most an hour long; older counters count for nothing.
    "DELETE FROM rate_limits WHERE window_start <= $1 - 3600",
    "DELETE FROM client_assertion_jtis WHERE expires_at <= $1",
];

/// Expired codes and tokens, [`EXPIRED_BATCH`] rows a statement (`$1` now, `$2` the batch's
/// size), each returning the grant it was issued under. Through the `expires_at` indexes; on
/// SQLite the rows are picked by rowid.
pub const EXPIRED_WITH_GRANT_SQLITE: [&str; 3] = [
    "DELETE FROM auth_codes WHERE rowid IN \
     (SELECT rowid FROM auth_codes WHERE expires_at <= $1 LIMIT $2) RETURNING grant_id",
    "DELETE FROM access_tokens WHERE rowid IN \
     (SELECT rowid FROM access_tokens WHERE expires_at <= $1 LIMIT $2) RETURNING grant_id",
    "DELETE FROM refresh_tokens WHERE rowid IN \
     (SELECT rowid FROM refresh_tokens WHERE expires_at <= $1 LIMIT $2) RETURNING grant_id",
];

/// [`EXPIRED_WITH_GRANT_SQLITE`] on PostgreSQL, by primary key; its refresh tokens are walked
/// instead ([`PURGE_REFRESH_TOKEN_CHUNK`]).
pub const EXPIRED_WITH_GRANT_POSTGRES: [&str; 2] = [
    "DELETE FROM auth_codes WHERE code_hash IN \
     (SELECT code_hash FROM auth_codes WHERE expires_at <= $1 LIMIT $2) RETURNING grant_id",
    "DELETE FROM access_tokens WHERE jti IN \
     (SELECT jti FROM access_tokens WHERE expires_at <= $1 LIMIT $2) RETURNING grant_id",
];

/// Expired rows deleted (and grant ids returned) per statement: a pass after a long stop, or at
/// a high token rate, neither holds the write lock for one long statement nor holds every id
/// returned at once. One batch a pass at ordinary rates (a batch is ten minutes' worth).
pub(crate) const EXPIRED_BATCH: i64 = 5000;

/// Refresh tokens checked per statement on PostgreSQL, which has no index on their expiry
/// (migration 0036: so that a refresh's new expiry is a HOT update).
const REFRESH_TOKEN_CHUNK: i64 = 1000;
/// The last token hash of the chunk after `$1` (`NULL` past the last token).
pub const REFRESH_TOKEN_CHUNK_END: &str = "SELECT MAX(token_hash) FROM \
     (SELECT token_hash FROM refresh_tokens WHERE token_hash > $1 \
      ORDER BY token_hash LIMIT $2) AS chunk";
/// One chunk's expired tokens: hashes in (`$2`, `$3`]; `$1`: now. Returns their grants' ids.
pub const PURGE_REFRESH_TOKEN_CHUNK: &str = "DELETE FROM refresh_tokens \
     WHERE token_hash > $2 AND token_hash <= $3 AND expires_at <= $1 RETURNING grant_id";

/// Grants checked per statement: ~6 ms of the write lock when every grant is old and each
/// takes its three probes (13 ms for 1000 at 1M grants, SQLite); ~3 ms when none is.
pub(crate) const GRANT_CHUNK: i64 = 500;
/// Rest after each chunk, as a multiple of the time it took (as the System Log purge).
const REST_FACTOR: u32 = 3;
/// Shortest rest, so that a fast chunk still lets queued writers through.
const MIN_REST: Duration = Duration::from_millis(5);

/// Most grants a pass remembers to probe (a few MB of ids). A pass that expired the tokens of
/// more walks every grant instead: at that many the walk costs no more per grant.
pub(crate) const MAX_SPENT_GRANTS: usize = 50_000;
/// The walk over every grant runs at most this often (seconds)...
pub const GRANT_WALK_EVERY: i64 = 86_400;
/// ...counted from the `now` of the pass that last completed it, kept under this `meta` name.
pub const GRANT_WALK_META: &str = "purge.grant_walk_at";

/// The last grant id of the chunk after `$1` (`NULL` past the last grant), on PostgreSQL.
pub const GRANT_CHUNK_END: &str = "SELECT MAX(id) FROM \
     (SELECT id FROM grants WHERE id > $1 ORDER BY id LIMIT $2) AS chunk";

/// [`GRANT_CHUNK_END`] on SQLite, along the table's rowid: its rows are stored in rowid order,
/// and an id is random, so a walk along `id` fetched each grant's row from a page of its own
/// (through `sqlite_autoindex_grants_1`). At 1M grants younger than a day (whose probes the
/// `created` test skips) a chunk of 500 took 3.9 ms along `id` and 0.07 ms along the rowid;
/// once the grants are old the three probes cost the same either way (~8 ms).
pub const GRANT_CHUNK_END_SQLITE: &str = "SELECT MAX(rowid) FROM \
     (SELECT rowid FROM grants WHERE rowid > $1 ORDER BY rowid LIMIT $2) AS chunk";

/// A spent grant: over a day old (revocation of a grant not created yet leaves a record for
/// that long) and no code or token refers to it any more; then it counts for nothing (without
/// this, every code exchange's grant would leave a row forever). `$1`: now. Each `NOT EXISTS` is
/// an index probe (`auth_codes_grant_id_idx`, migration 0036, and the tokens' `grant_id`
/// indexes).
macro_rules! spent_sqlite {
    () => {
        " AND created <= $1 - 86400 \
          AND NOT EXISTS (SELECT 1 FROM auth_codes c WHERE c.grant_id = grants.id) \
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id) \
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = grants.id)"
    };
}

/// [`spent_sqlite`] for PostgreSQL. `grants.id` is `COLLATE "C"`, the `grant_id` columns and
/// their indexes the database's default: a comparison of the two is in "C", which those
/// indexes do not serve, so every chunk hashed the whole `refresh_tokens` table (1M rows).
/// Equality is the same in any deterministic collation; compared in the default one, each probe
/// is an index lookup.
macro_rules! spent_postgres {
    () => {
        " AND created <= $1 - 86400 \
          AND NOT EXISTS (SELECT 1 FROM auth_codes c \
                          WHERE c.grant_id = (grants.id COLLATE \"default\")) \
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r \
                          WHERE r.grant_id = (grants.id COLLATE \"default\")) \
          AND NOT EXISTS (SELECT 1 FROM access_tokens a \
                          WHERE a.grant_id = (grants.id COLLATE \"default\"))"
    };
}

/// The walk's chunk of spent grants: rowids in (`$2`, `$3`] ([`GRANT_CHUNK_END_SQLITE`]).
pub const PURGE_GRANT_CHUNK: &str = concat!(
    "DELETE FROM grants WHERE rowid > $2 AND rowid <= $3",
    spent_sqlite!()
);

/// [`PURGE_GRANT_CHUNK`] for PostgreSQL: ids in (`$2`, `$3`].
pub const PURGE_GRANT_CHUNK_POSTGRES: &str = concat!(
    "DELETE FROM grants WHERE id > $2 AND id <= $3",
    spent_postgres!()
);

/// The probe of the grants whose codes or tokens a pass deleted: those of the ids in `$2` (a
/// JSON array, up to [`GRANT_CHUNK`]) that are spent, through `sqlite_autoindex_grants_1`.
pub const PROBE_GRANTS: &str = concat!(
    "DELETE FROM grants WHERE id IN (SELECT value FROM json_each($2))",
    spent_sqlite!()
);

/// [`PROBE_GRANTS`] for PostgreSQL (`$2` a text array), through `grants_pkey`.
pub const PROBE_GRANTS_POSTGRES: &str =
    concat!("DELETE FROM grants WHERE id = ANY($2)", spent_postgres!());

/// The grants of the codes and tokens a pass deleted, to probe once they are all gone.
#[derive(Default)]
struct SpentGrants {
    ids: HashSet<String>,
    /// More than [`MAX_SPENT_GRANTS`]: forgotten; the pass walks every grant instead.
    overflowed: bool,
}

impl SpentGrants {
    fn add(&mut self, ids: Vec<String>) {
        if self.overflowed {
            return;
        }
        self.ids.extend(ids);
        if self.ids.len() > MAX_SPENT_GRANTS {
            self.overflowed = true;
            self.ids = HashSet::new();
        }
    }

    /// Sorted (neighbours in the primary key), [`GRANT_CHUNK`] at a time.
    fn into_chunks(self) -> Vec<Vec<String>> {
        let mut ids: Vec<String> = self.ids.into_iter().collect();
        ids.sort_unstable();
        let size = usize::try_from(GRANT_CHUNK).unwrap_or(500);
        ids.chunks(size).map(<[String]>::to_vec).collect()
    }
}

/// Whether the walk over every grant is due at `now`, after one completed at `last` (also when
/// the clock went back, or the record is unreadable).
fn grant_walk_due(last: Option<&str>, now: Timestamp) -> bool {
    match last.and_then(|v| v.parse::<Timestamp>().ok()) {
        Some(at) => at > now || now - at >= GRANT_WALK_EVERY,
        None => true,
    }
}

/// The rest after a chunk or batch that took `took`, as the System Log purge's.
fn rest_after(took: Duration) -> Duration {
    (took * REST_FACTOR).max(MIN_REST)
}

macro_rules! impl_purge {
    (
        $db:ty,
        $expired_with_grant:expr,
        $refresh_tokens_by_index:expr,
        ($grant_chunk_end:expr, $grant_key:ty, $purge_grants:expr),
        ($probe_grants:expr, $ids:expr)
    ) => {
        impl SqlStore<$db> {
            /// The body of `TokenStore::purge_expired`: rows deleted.
            pub(crate) async fn purge_expired_rows(&self, now: Timestamp) -> StoreResult<u64> {
                let mut purged = 0;
                for sql in EXPIRED {
                    purged += self.purge_statement(sql, now).await?;
                }
                let mut spent = SpentGrants::default();
                for sql in $expired_with_grant {
                    purged += self.purge_batches(sql, now, &mut spent).await?;
                }
                if !$refresh_tokens_by_index {
                    purged += self
                        .purge_chunks::<String>(
                            now,
                            (REFRESH_TOKEN_CHUNK_END, REFRESH_TOKEN_CHUNK),
                            PURGE_REFRESH_TOKEN_CHUNK,
                            Some(&mut spent),
                        )
                        .await?;
                }
                let walked = self.get_meta(GRANT_WALK_META).await?;
                if spent.overflowed || grant_walk_due(walked.as_deref(), now) {
                    let started = Instant::now();
                    let grants = self
                        .purge_chunks::<$grant_key>(
                            now,
                            ($grant_chunk_end, GRANT_CHUNK),
                            $purge_grants,
                            None,
                        )
                        .await?;
                    self.record_grant_walk(now).await?;
                    tracing::info!(
                        grants,
                        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        "walked every grant for spent ones"
                    );
                    purged += grants;
                } else {
                    for ids in spent.into_chunks() {
                        let ids = $ids(&ids)?;
                        let probe = sqlx::query($probe_grants).bind(now).bind(ids);
                        let (done, took) = self
                            .in_turn(async { probe.execute(self.pool()).await.map_err(db_err) })
                            .await?;
                        purged += done.rows_affected();
                        tokio::time::sleep(rest_after(took)).await;
                    }
                }
                Ok(purged)
            }

            /// `work` in the node's write turn, and how long it held the turn.
            async fn in_turn<T>(
                &self,
                work: impl std::future::Future<Output = StoreResult<T>>,
            ) -> StoreResult<(T, Duration)> {
                let turn = self.gate().enter().await;
                let started = Instant::now();
                let out = work.await;
                let took = started.elapsed();
                drop(turn);
                Ok((out?, took))
            }

            /// One statement (`$1`: now) in the node's write turn.
            async fn purge_statement(&self, sql: &str, now: Timestamp) -> StoreResult<u64> {
                let statement = sqlx::query(sql).bind(now);
                let (done, _) = self
                    .in_turn(async { statement.execute(self.pool()).await.map_err(db_err) })
                    .await?;
                Ok(done.rows_affected())
            }

            /// `sql` (`$1` now, `$2` the batch's size, returning grant ids) until a batch comes
            /// back short, each batch in its write turn, with a rest before the next.
            async fn purge_batches(
                &self,
                sql: &str,
                now: Timestamp,
                spent: &mut SpentGrants,
            ) -> StoreResult<u64> {
                let mut purged = 0;
                loop {
                    let batch = sqlx::query_scalar::<_, String>(sql)
                        .bind(now)
                        .bind(EXPIRED_BATCH);
                    let (grants, took) = self
                        .in_turn(async { batch.fetch_all(self.pool()).await.map_err(db_err) })
                        .await?;
                    let n = grants.len();
                    purged += u64::try_from(n).unwrap_or(u64::MAX);
                    spent.add(grants);
                    if i64::try_from(n).unwrap_or(i64::MAX) < EXPIRED_BATCH {
                        return Ok(purged);
                    }
                    tokio::time::sleep(rest_after(took)).await;
                }
            }

            /// Records, in its write turn, that the walk over every grant completed at `now`.
            async fn record_grant_walk(&self, now: Timestamp) -> StoreResult<()> {
                let at = now.to_string();
                self.in_turn(self.set_meta(GRANT_WALK_META, &at)).await?;
                Ok(())
            }

            /// `purge` (`$1` now, keys in (`$2`, `$3`]) over a whole table, chunk by chunk
            /// along the key `chunk_end` (`$1` after, `$2` the chunk's size) walks (a text key
            /// from `""`, a rowid from 0), with a rest after each. With `spent`, `purge`
            /// returns the grant ids of what it deleted.
            async fn purge_chunks<K>(
                &self,
                now: Timestamp,
                (chunk_end, size): (&str, i64),
                purge: &str,
                mut spent: Option<&mut SpentGrants>,
            ) -> StoreResult<u64>
            where
                K: Default
                    + Send
                    + Sync
                    + Unpin
                    + 'static
                    + sqlx::Type<$db>
                    + for<'q> sqlx::Encode<'q, $db>
                    + for<'r> sqlx::Decode<'r, $db>,
            {
                let mut purged = 0;
                let mut after = K::default();
                loop {
                    // Where the chunk ends is read outside the turn: it writes nothing.
                    let end: Option<K> = sqlx::query_scalar(chunk_end)
                        .bind(&after)
                        .bind(size)
                        .fetch_one(self.pool())
                        .await
                        .map_err(db_err)?;
                    let Some(end) = end else { break };
                    let took = if let Some(spent) = spent.as_deref_mut() {
                        let chunk = sqlx::query_scalar::<_, String>(purge)
                            .bind(now)
                            .bind(&after)
                            .bind(&end);
                        let (grants, took) = self
                            .in_turn(async { chunk.fetch_all(self.pool()).await.map_err(db_err) })
                            .await?;
                        purged += u64::try_from(grants.len()).unwrap_or(u64::MAX);
                        spent.add(grants);
                        took
                    } else {
                        let chunk = sqlx::query(purge).bind(now).bind(&after).bind(&end);
                        let (done, took) = self
                            .in_turn(async { chunk.execute(self.pool()).await.map_err(db_err) })
                            .await?;
                        purged += done.rows_affected();
                        took
                    };
                    after = end;
                    tokio::time::sleep(rest_after(took)).await;
                }
                Ok(purged)
            }
        }
    };
}

impl_purge!(
    sqlx::Sqlite,
    EXPIRED_WITH_GRANT_SQLITE,
    true,
    (GRANT_CHUNK_END_SQLITE, i64, PURGE_GRANT_CHUNK),
    (PROBE_GRANTS, |ids: &[String]| to_json(ids))
);
impl_purge!(
    sqlx::Postgres,
    EXPIRED_WITH_GRANT_POSTGRES,
    false,
    (GRANT_CHUNK_END, String, PURGE_GRANT_CHUNK_POSTGRES),
    (PROBE_GRANTS_POSTGRES, |ids: &[String]| StoreResult::Ok(
        ids.to_vec()
    ))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_grants_past_the_limit_are_forgotten_for_a_walk() {
        let mut spent = SpentGrants::default();
        spent.add(vec!["b".into(), "a".into(), "b".into()]);
        assert!(!spent.overflowed);
        assert_eq!(spent.ids.len(), 2);
        spent.add((0..MAX_SPENT_GRANTS).map(|i| format!("g{i}")).collect());
        assert!(spent.overflowed);
        assert!(spent.ids.is_empty());
        spent.add(vec!["c".into()]);
        assert!(spent.ids.is_empty());
    }

    #[test]
    fn spent_grants_are_probed_sorted_a_chunk_at_a_time() {
        let mut spent = SpentGrants::default();
        spent.add((0..1001).rev().map(|i| format!("g{i:04}")).collect());
        let chunks = spent.into_chunks();
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [500, 500, 1]
        );
        assert_eq!(chunks[0][0], "g0000");
        assert_eq!(chunks[2][0], "g1000");
    }

    #[test]
    fn the_walk_is_due_a_day_after_the_last_or_when_unknown() {
        assert!(grant_walk_due(None, 100));
        assert!(grant_walk_due(Some("junk"), 100));
        assert!(!grant_walk_due(Some("100"), 100));
        assert!(!grant_walk_due(Some("100"), 100 + GRANT_WALK_EVERY - 1));
        assert!(grant_walk_due(Some("100"), 100 + GRANT_WALK_EVERY));
        // The clock went back.
        assert!(grant_walk_due(Some("100"), 99));
    }
}
