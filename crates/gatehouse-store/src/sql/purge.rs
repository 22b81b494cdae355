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

use std::time::{Duration, Instant};

use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::StoreResult;

use crate::error::db_err;
use crate::sql::SqlStore;

/// Rows past their expiry, one statement each (`$1`: now). Each is served by an `expires_at`
/// (or `window_start`) index and deletes what expired since the last run.
const EXPIRED: [&str; 6] = [
    "DELETE FROM auth_codes WHERE expires_at <= $1",
    "DELETE FROM login_transactions WHERE expires_at <= $1",
    "DELETE FROM sessions WHERE expires_at <= $1",
    "DELETE FROM access_tokens WHERE expires_at <= $1",
    // A window is at most an hour long; older counters count for nothing.
    "DELETE FROM rate_limits WHERE window_start <= $1 - 3600",
    "DELETE FROM client_assertion_jtis WHERE expires_at <= $1",
];

/// Expired refresh tokens on SQLite, through `refresh_tokens_expires_at_idx`.
const EXPIRED_REFRESH_TOKENS: &str = "DELETE FROM refresh_tokens WHERE expires_at <= $1";

/// Refresh tokens checked per statement on PostgreSQL, which has no index on their expiry
/// (migration 0036: so that a refresh's new expiry is a HOT update).
const REFRESH_TOKEN_CHUNK: i64 = 1000;
/// The last token hash of the chunk after `$1` (`NULL` past the last token).
pub const REFRESH_TOKEN_CHUNK_END: &str = "SELECT MAX(token_hash) FROM \
     (SELECT token_hash FROM refresh_tokens WHERE token_hash > $1 \
      ORDER BY token_hash LIMIT $2) AS chunk";
/// One chunk's expired tokens: hashes in (`$2`, `$3`]; `$1`: now.
pub const PURGE_REFRESH_TOKEN_CHUNK: &str = "DELETE FROM refresh_tokens \
     WHERE token_hash > $2 AND token_hash <= $3 AND expires_at <= $1";

/// Grants checked per statement: ~6 ms of the write lock when every grant is old and each
/// takes its three probes (13 ms for 1000 at 1M grants, SQLite); ~3 ms when none is.
pub(crate) const GRANT_CHUNK: i64 = 500;
/// Rest after each chunk, as a multiple of the time it took (as the System Log purge).
const REST_FACTOR: u32 = 3;
/// Shortest rest, so that a fast chunk still lets queued writers through.
const MIN_REST: Duration = Duration::from_millis(5);

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

/// A grant outlives its codes and tokens by a day (revocation of a grant not created yet leaves
/// a record for that long), then it counts for nothing: without this, every code exchange's
/// grant would leave a row forever. One chunk: ids in (`$2`, `$3`]; `$1`: now. Each `NOT
/// EXISTS` is an index probe (`auth_codes_grant_id_idx`, migration 0036, and the tokens'
/// `grant_id` indexes).
/// On SQLite the chunk is rowids in (`$2`, `$3`] ([`GRANT_CHUNK_END_SQLITE`]).
pub const PURGE_GRANT_CHUNK: &str = "DELETE FROM grants \
     WHERE rowid > $2 AND rowid <= $3 AND created <= $1 - 86400 \
       AND NOT EXISTS (SELECT 1 FROM auth_codes c WHERE c.grant_id = grants.id) \
       AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id) \
       AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = grants.id)";

/// [`PURGE_GRANT_CHUNK`] for PostgreSQL. `grants.id` is `COLLATE "C"`, the `grant_id` columns
/// and their indexes the database's default: a comparison of the two is in "C", which those
/// indexes do not serve, so every chunk hashed the whole `refresh_tokens` table (1M rows).
/// Equality is the same in any deterministic collation; compared in the default one, each probe
/// is an index lookup.
pub const PURGE_GRANT_CHUNK_POSTGRES: &str = "DELETE FROM grants \
     WHERE id > $2 AND id <= $3 AND created <= $1 - 86400 \
       AND NOT EXISTS (SELECT 1 FROM auth_codes c \
                       WHERE c.grant_id = (grants.id COLLATE \"default\")) \
       AND NOT EXISTS (SELECT 1 FROM refresh_tokens r \
                       WHERE r.grant_id = (grants.id COLLATE \"default\")) \
       AND NOT EXISTS (SELECT 1 FROM access_tokens a \
                       WHERE a.grant_id = (grants.id COLLATE \"default\"))";

macro_rules! impl_purge {
    ($db:ty, $grant_chunk_end:expr, $grant_key:ty, $purge_grants:expr, $refresh_tokens_by_index:expr) => {
        impl SqlStore<$db> {
            /// The body of `TokenStore::purge_expired`: rows deleted.
            pub(crate) async fn purge_expired_rows(&self, now: Timestamp) -> StoreResult<u64> {
                let mut purged = 0;
                for sql in EXPIRED {
                    purged += self.purge_statement(sql, now).await?;
                }
                if $refresh_tokens_by_index {
                    purged += self.purge_statement(EXPIRED_REFRESH_TOKENS, now).await?;
                } else {
                    purged += self
                        .purge_chunks::<String>(
                            now,
                            (REFRESH_TOKEN_CHUNK_END, REFRESH_TOKEN_CHUNK),
                            PURGE_REFRESH_TOKEN_CHUNK,
                        )
                        .await?;
                }
                purged += self
                    .purge_chunks::<$grant_key>(now, ($grant_chunk_end, GRANT_CHUNK), $purge_grants)
                    .await?;
                Ok(purged)
            }

            /// One statement (`$1`: now) in the node's write turn.
            async fn purge_statement(&self, sql: &str, now: Timestamp) -> StoreResult<u64> {
                let turn = self.gate().enter().await;
                let done = sqlx::query(sql)
                    .bind(now)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                drop(turn);
                Ok(done.rows_affected())
            }

            /// `purge` (`$1` now, keys in (`$2`, `$3`]) over a whole table, chunk by chunk
            /// along the key `chunk_end` (`$1` after, `$2` the chunk's size) walks (a text key
            /// from `""`, a rowid from 0), with a rest after each.
            async fn purge_chunks<K>(
                &self,
                now: Timestamp,
                (chunk_end, size): (&str, i64),
                purge: &str,
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
                    let turn = self.gate().enter().await;
                    let started = Instant::now();
                    let done = sqlx::query(purge)
                        .bind(now)
                        .bind(&after)
                        .bind(&end)
                        .execute(self.pool())
                        .await
                        .map_err(db_err)?;
                    let took = started.elapsed();
                    drop(turn);
                    purged += done.rows_affected();
                    after = end;
                    tokio::time::sleep((took * REST_FACTOR).max(MIN_REST)).await;
                }
                Ok(purged)
            }
        }
    };
}

impl_purge!(
    sqlx::Sqlite,
    GRANT_CHUNK_END_SQLITE,
    i64,
    PURGE_GRANT_CHUNK,
    true
);
impl_purge!(
    sqlx::Postgres,
    GRANT_CHUNK_END,
    String,
    PURGE_GRANT_CHUNK_POSTGRES,
    false
);
