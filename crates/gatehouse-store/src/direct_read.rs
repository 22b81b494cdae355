//! SQLite reads on the calling thread, for the lookups every protected request makes: the
//! access token's record (is it revoked?) and, for a user's token, its user; and the
//! client-authentication throttle's counters, which every token and introspection request reads
//! (introspection reads them with its token's record, in one statement).
//!
//! Through sqlx, every SQLite query goes to its connection's worker thread and back (a command
//! and a row channel, a task spawned to give the connection back): on the bench's one core that
//! was ~3.8 context switches and most of the CPU of a userinfo or introspection request, for a
//! point read that takes SQLite a few microseconds. These reads run instead on the thread that
//! asks, with a plain SQLite connection (rusqlite, the same libsqlite3 sqlx links): no hop, no
//! channel, no task. A read is one indexed lookup of pages that are hot in the page cache, the
//! same order of cost as the token's signature check done on that thread just before it.
//!
//! Freshness is unchanged: each read is a statement of its own, outside any transaction, so it
//! sees every commit made before it started, by this node, another node or the CLI (WAL readers
//! never wait for the writer). A revoked token or a deactivated user is refused at once.
//!
//! The connections are read-only and never wait: `busy_timeout` is 0, so the rare moment where
//! SQLite cannot start a read at once (WAL recovery) answers "busy" instead of sleeping on a
//! runtime thread, and the caller then reads through sqlx ([`crate::read_batch`]) as before.
//! Any other failure goes the same way (the sqlx read reports it properly) and drops the
//! connection. In-memory databases (one per connection) are never read here.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use gatehouse_core::domain::{AccessTokenRecord, User};
use gatehouse_core::store::{AccessTokenKey, StoreResult, TokenLookup};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use crate::rows::{UserRow, access_cols, user_cols};

/// Idle connections kept (one per runtime thread reading at once is enough).
const MAX_IDLE: usize = 8;

const ACCESS_TOKEN: &str = concat!(
    "SELECT ",
    access_cols!(),
    " FROM access_tokens WHERE jti = ?1"
);
/// The user (no row: no such user) with the token's record, if any, in one statement.
const ACCESS_TOKEN_AND_USER: &str = concat!(
    "SELECT ",
    user_cols!(),
    ", a.jti, a.grant_id, a.client_id, a.expires_at, a.revoked_at \
     FROM users LEFT JOIN access_tokens a ON a.jti = ?1 WHERE users.id = ?2"
);
/// The throttle's counters of one window, for up to this many buckets in one statement (one
/// read transaction): a token request reads two.
const RATE_LIMIT_BUCKETS: usize = 2;
const RATE_LIMITS: [&str; RATE_LIMIT_BUCKETS] = [
    "SELECT bucket, hits FROM rate_limits WHERE window_start = ?1 AND bucket IN (?2)",
    "SELECT bucket, hits FROM rate_limits WHERE window_start = ?1 AND bucket IN (?2, ?3)",
];
/// The throttle's counters of (at most) two buckets and, when asked, an access token's record
/// and its user, in one statement (introspection's one read). A NULL bucket, `jti` or user id
/// matches nothing. Driven by a one-row table, so there is a row whatever is missing.
const RATE_LIMITS_AND_TOKEN: &str = concat!(
    "SELECT (SELECT hits FROM rate_limits WHERE bucket = ?2 AND window_start = ?1), \
     (SELECT hits FROM rate_limits WHERE bucket = ?3 AND window_start = ?1), ",
    user_cols!(),
    ", a.jti, a.grant_id, a.client_id, a.expires_at, a.revoked_at \
     FROM (SELECT 1) LEFT JOIN users ON users.id = ?5 LEFT JOIN access_tokens a ON a.jti = ?4"
);
/// A user found, with the token's record if any (`None`: no such user).
type UserAndToken = Option<(Option<AccessTokenRecord>, User)>;
/// Columns of `user_cols!()`, before the token's.
const USER_COLS: usize = 14;

/// A file database's read-only connections for [`crate::read_batch`]'s lookups.
pub(crate) struct DirectReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl DirectReader {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The access token's record; `None` when it could not be read here (read it via sqlx).
    pub(crate) fn access_token(&self, jti: &str) -> Option<StoreResult<Option<AccessTokenRecord>>> {
        self.read(|conn| {
            conn.prepare_cached(ACCESS_TOKEN)?
                .query_row([jti], |row| access_token_at(row, 0))
                .optional()
        })
        .map(|record| Ok(record.flatten()))
    }

    /// The user (if they exist) and the token's record (if any); `None` as above.
    pub(crate) fn access_token_and_user(
        &self,
        jti: &str,
        user_id: &str,
    ) -> Option<StoreResult<UserAndToken>> {
        let row = self.read(|conn| {
            conn.prepare_cached(ACCESS_TOKEN_AND_USER)?
                .query_row([jti, user_id], |row| {
                    Ok((user_row(row)?, access_token_at(row, USER_COLS)?))
                })
                .optional()
        })?;
        Some(
            row.map(|(user, token)| User::try_from(user).map(|user| (token, user)))
                .transpose(),
        )
    }

    /// The hits of each bucket in the window starting at `window_start`, in order (0 for no
    /// row); `None` as above, and for more buckets than one statement takes.
    pub(crate) fn rate_limit_hits(
        &self,
        buckets: &[&str],
        window_start: i64,
    ) -> Option<StoreResult<Vec<i64>>> {
        let sql = RATE_LIMITS.get(buckets.len().checked_sub(1)?)?;
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&window_start];
            params.extend(buckets.iter().map(|b| b as &dyn rusqlite::ToSql));
            let mut hits = vec![0; buckets.len()];
            let mut rows = stmt.query(params.as_slice())?;
            while let Some(row) = rows.next()? {
                let (bucket, count): (String, i64) = (row.get(0)?, row.get(1)?);
                for (asked, slot) in buckets.iter().zip(hits.iter_mut()) {
                    if *asked == bucket {
                        *slot = count;
                    }
                }
            }
            Ok(hits)
        })
        .map(Ok)
    }

    /// The hits of each bucket (at most two) in the window starting at `window_start`, in order
    /// (0 for no row), and what `token` names (its record, and its user if it names one; the
    /// user `None` when they do not exist): one statement. `None` as above, and for more
    /// buckets than it takes.
    pub(crate) fn rate_limits_with_token(
        &self,
        buckets: &[&str],
        window_start: i64,
        token: Option<AccessTokenKey<'_>>,
    ) -> Option<StoreResult<(Vec<i64>, Option<TokenLookup>)>> {
        if buckets.len() > RATE_LIMIT_BUCKETS {
            return None;
        }
        let (b1, b2) = (buckets.first().copied(), buckets.get(1).copied());
        let (jti, uid) = (token.map(|t| t.jti), token.and_then(|t| t.user_id));
        let row = self.read(|conn| {
            conn.prepare_cached(RATE_LIMITS_AND_TOKEN)?.query_row(
                rusqlite::params![window_start, b1, b2, jti, uid],
                |row| {
                    let hits = [row.get::<_, Option<i64>>(0)?, row.get(1)?];
                    let user = match row.get::<_, Option<String>>(2)? {
                        Some(_) => Some(user_row_at(row, 2)?),
                        None => None,
                    };
                    Ok((hits, user, access_token_at(row, 2 + USER_COLS)?))
                },
            )
        })?;
        let ([h1, h2], user, record) = row;
        let hits = [h1, h2]
            .into_iter()
            .take(buckets.len())
            .map(|h| h.unwrap_or(0))
            .collect();
        let user = match user.map(User::try_from).transpose() {
            Ok(user) => user,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok((hits, token.map(|_| (record, user)))))
    }

    /// Runs `query` on an idle connection (or a new one); `None` if it failed.
    pub(crate) fn read<T>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let idle = self.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self
                .open()
                .map_err(|e| tracing::debug!(error = %e, "direct SQLite read: open failed"))
                .ok()?,
        };
        match query(&conn) {
            Ok(value) => {
                let mut idle = self.idle();
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
                Some(value)
            }
            Err(e) => {
                // Busy (WAL recovery) or worse: sqlx reads it instead; this connection goes.
                tracing::debug!(error = %e, "direct SQLite read failed; reading via sqlx");
                None
            }
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // Only pushes and pops under the lock: a poisoned one is still consistent.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never sleep on the caller's (runtime) thread: busy means "read via sqlx".
        conn.busy_timeout(Duration::ZERO)?;
        Ok(conn)
    }
}

/// The token's columns from `at` on (all NULL when the LEFT JOIN found none).
fn access_token_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<AccessTokenRecord>> {
    let Some(jti) = row.get::<_, Option<String>>(at)? else {
        return Ok(None);
    };
    Ok(Some(AccessTokenRecord {
        jti,
        grant_id: row.get(at + 1)?,
        client_id: row.get(at + 2)?,
        expires_at: row.get(at + 3)?,
        revoked_at: row.get(at + 4)?,
    }))
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    user_row_at(row, 0)
}

/// The user's columns (`user_cols!()`) from `at` on.
pub(crate) fn user_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: row.get(at)?,
        status: row.get(at + 1)?,
        login: row.get(at + 2)?,
        email: row.get(at + 3)?,
        first_name: row.get(at + 4)?,
        last_name: row.get(at + 5)?,
        display_name: row.get(at + 6)?,
        password_hash: row.get(at + 7)?,
        created: row.get(at + 8)?,
        last_updated: row.get(at + 9)?,
        activated: row.get(at + 10)?,
        status_changed: row.get(at + 11)?,
        last_login: row.get(at + 12)?,
        password_changed: row.get(at + 13)?,
    })
}
