//! The code exchange's and the refresh grant's reads on the calling thread (SQLite files), as
//! [`crate::direct_read`] does for access tokens: the code with its user, the refresh token with
//! its grant, user and device flag, and a grant alone (rotation's check after its write).
//!
//! Through sqlx each of these was a hop to the connection's worker thread and back, with its
//! context switches, on a response that otherwise only signs and commits. Freshness is the same
//! as sqlx's: each read is a statement of its own outside any transaction, so it sees every
//! commit made before it started. Whatever fails here (busy, a decoding error) is read again
//! through sqlx, which reports it properly.
//!
//! Each read is one statement whatever is missing (outer joins): a code whose user is gone, a
//! refresh token whose grant or user is gone, read in pieces through sqlx before, are one row
//! with null columns here.
//!
//! The token endpoint reads the code or the refresh token with its client-authentication
//! throttle's counters, in one statement (`THROTTLE_AND_…`): one read transaction, not two.

use gatehouse_core::domain::{AuthCode, Grant, User};
use gatehouse_core::store::{RefreshFamily, StoreResult};
use rusqlite::{OptionalExtension, Row};

use crate::direct_read::DirectReader;
use crate::rows::{AuthCodeRow, GrantRow, RefreshTokenRow, UserRow, grant_cols, user_cols};

/// The code (columns 0..16) and its user (16.., all null when the user is gone).
macro_rules! code_and_user_cols {
    () => {
        "c.code_hash, c.grant_id, c.client_id, c.user_id, c.auth_server_id, c.redirect_uri, \
         c.scopes, c.nonce, c.code_challenge, c.auth_time, c.amr, c.acr, c.session_id_hash, \
         c.created, c.expires_at, c.used_at, \
         u.id, u.status, u.login, u.email, u.first_name, u.last_name, u.display_name, \
         u.password_hash, u.created, u.last_updated, u.activated, u.status_changed, u.last_login, \
         u.password_changed"
    };
}
const CODE_AND_USER: &str = concat!(
    "SELECT ",
    code_and_user_cols!(),
    " FROM auth_codes c LEFT JOIN users u ON u.id = c.user_id WHERE c.code_hash = ?1"
);
const CODE_COLS: usize = 16;

/// The token (0..8), its grant (8..18, null when gone), the grant's user (18..32, null when
/// none or gone) and its device flag (32).
macro_rules! refresh_family_cols {
    () => {
        "r.token_hash, r.grant_id, r.client_id, r.scopes, r.created, r.expires_at, \
         r.rotated_at, r.revoked_at, \
         g.id, g.client_id, g.user_id, g.auth_server_id, g.scopes, g.auth_time, g.amr, g.acr, \
         g.created, g.revoked_at, \
         u.id, u.status, u.login, u.email, u.first_name, u.last_name, u.display_name, \
         u.password_hash, u.created, u.last_updated, u.activated, u.status_changed, u.last_login, \
         u.password_changed, \
         EXISTS (SELECT 1 FROM device_grants d WHERE d.grant_id = r.grant_id)"
    };
}
const REFRESH_FAMILY: &str = concat!(
    "SELECT ",
    refresh_family_cols!(),
    " FROM refresh_tokens r LEFT JOIN grants g ON g.id = r.grant_id \
     LEFT JOIN users u ON u.id = g.user_id WHERE r.token_hash = ?1"
);

/// The client-authentication throttle's counters of (at most) two buckets in one window (?1,
/// buckets ?2 and ?3; a NULL bucket matches nothing), then what a code exchange or refresh
/// reads by its hash (?4): the token endpoint's one read for those grants, as introspection's
/// ([`crate::direct_read`]). Driven by a one-row table, so there is a row whatever is missing.
macro_rules! throttle_hits {
    () => {
        "SELECT (SELECT hits FROM rate_limits WHERE bucket = ?2 AND window_start = ?1), \
         (SELECT hits FROM rate_limits WHERE bucket = ?3 AND window_start = ?1), "
    };
}
const THROTTLE_AND_CODE: &str = concat!(
    throttle_hits!(),
    code_and_user_cols!(),
    " FROM (SELECT 1) LEFT JOIN auth_codes c ON c.code_hash = ?4 \
     LEFT JOIN users u ON u.id = c.user_id"
);
const THROTTLE_AND_FAMILY: &str = concat!(
    throttle_hits!(),
    refresh_family_cols!(),
    " FROM (SELECT 1) LEFT JOIN refresh_tokens r ON r.token_hash = ?4 \
     LEFT JOIN grants g ON g.id = r.grant_id LEFT JOIN users u ON u.id = g.user_id"
);
/// The counters' columns before the code's or the token's.
const HITS_COLS: usize = 2;
const REFRESH_COLS: usize = 8;
const GRANT_COLS: usize = 10;
const USER_COLS: usize = 14;

const GRANT: &str = concat!("SELECT ", grant_cols!(), " FROM grants WHERE id = ?1");

// The column lists above spell out `user_cols!()` and `grant_cols!()` with a table prefix;
// these keep them in step (a column added there must be added here).
const _: () = assert!(count_cols(user_cols!()) == USER_COLS);
const _: () = assert!(count_cols(grant_cols!()) == GRANT_COLS);
const _: () = assert!(count_cols(code_and_user_cols!()) == CODE_COLS + USER_COLS);
const _: () =
    assert!(count_cols(refresh_family_cols!()) == REFRESH_COLS + GRANT_COLS + USER_COLS + 1);

/// Commas + 1: the columns of a list.
const fn count_cols(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut n) = (0, 1);
    while i < bytes.len() {
        if bytes[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The code and, if they still exist, its user.
type CodeAndUser = (AuthCode, Option<User>);
/// The rows of a code and its user, as read.
type CodeAndUserRows = (AuthCodeRow, Option<UserRow>);
/// The rows of a refresh token, its grant, its user and its device flag, as read.
type FamilyRows = (RefreshTokenRow, Option<GrantRow>, Option<UserRow>, bool);
/// The throttle's hits (0 for none), in the order of the buckets asked for, and a read.
type WithHits<T> = (Vec<i64>, T);

impl DirectReader {
    /// The code and its user; `None` when it could not be read here (read it via sqlx).
    pub(crate) fn code_and_user(
        &self,
        code_hash: &str,
    ) -> Option<StoreResult<Option<CodeAndUser>>> {
        let row = self.read(|conn| {
            conn.prepare_cached(CODE_AND_USER)?
                .query_row([code_hash], |row| code_and_user_at(row, 0))
                .optional()
        })?;
        decode(|| code_and_user(row.flatten()))
    }

    /// The refresh token with its grant, user and device flag; `None` as above.
    pub(crate) fn refresh_family(
        &self,
        token_hash: &str,
    ) -> Option<StoreResult<Option<RefreshFamily>>> {
        let row = self.read(|conn| {
            conn.prepare_cached(REFRESH_FAMILY)?
                .query_row([token_hash], |row| family_at(row, 0))
                .optional()
        })?;
        decode(|| refresh_family(row.flatten()))
    }

    /// The hits of each bucket (at most two) in the window starting at `window_start`, in
    /// order, and [`Self::code_and_user`], in one statement; `None` as above, and for more
    /// buckets than it takes.
    pub(crate) fn rate_limits_with_code(
        &self,
        buckets: &[&str],
        window_start: i64,
        code_hash: &str,
    ) -> Option<StoreResult<WithHits<Option<CodeAndUser>>>> {
        let (hits, row) =
            self.read_with_hits(THROTTLE_AND_CODE, buckets, window_start, code_hash, |row| {
                code_and_user_at(row, HITS_COLS)
            })?;
        decode(|| Ok((hits, code_and_user(row)?)))
    }

    /// The hits as above and [`Self::refresh_family`], in one statement; `None` as above.
    pub(crate) fn rate_limits_with_family(
        &self,
        buckets: &[&str],
        window_start: i64,
        token_hash: &str,
    ) -> Option<StoreResult<WithHits<Option<RefreshFamily>>>> {
        let (hits, row) = self.read_with_hits(
            THROTTLE_AND_FAMILY,
            buckets,
            window_start,
            token_hash,
            |row| family_at(row, HITS_COLS),
        )?;
        decode(|| Ok((hits, refresh_family(row)?)))
    }

    /// Runs one of the `THROTTLE_AND_…` statements: the buckets' hits, then `rest` of the row.
    fn read_with_hits<T>(
        &self,
        sql: &str,
        buckets: &[&str],
        window_start: i64,
        hash: &str,
        rest: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<WithHits<T>> {
        if buckets.len() > HITS_COLS {
            return None;
        }
        let (b1, b2) = (buckets.first().copied(), buckets.get(1).copied());
        self.read(|conn| {
            conn.prepare_cached(sql)?.query_row(
                rusqlite::params![window_start, b1, b2, hash],
                |row| {
                    let hits = (0..buckets.len())
                        .map(|i| Ok(row.get::<_, Option<i64>>(i)?.unwrap_or(0)))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok((hits, rest(row)?))
                },
            )
        })
    }

    /// The grant; `None` as above.
    pub(crate) fn grant(&self, id: &str) -> Option<StoreResult<Option<Grant>>> {
        let row = self.read(|conn| {
            conn.prepare_cached(GRANT)?
                .query_row([id], |row| grant_at(row, 0))
                .optional()
        })?;
        decode(|| row.flatten().map(Grant::try_from).transpose())
    }
}

/// A stored value that does not decode is read again through sqlx, which reports it.
fn decode<T>(f: impl FnOnce() -> StoreResult<T>) -> Option<StoreResult<T>> {
    match f() {
        Ok(value) => Some(Ok(value)),
        Err(e) => {
            tracing::debug!(error = %e, "direct SQLite read did not decode; reading via sqlx");
            None
        }
    }
}

/// The code and its user from `at` on; `None` when there is no code (the outer join's nulls).
fn code_and_user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<CodeAndUserRows>> {
    if row.get::<_, Option<String>>(at)?.is_none() {
        return Ok(None);
    }
    Ok(Some((code_row_at(row, at)?, user_at(row, at + CODE_COLS)?)))
}

/// The token, its grant, user and device flag from `at` on; `None` when there is no token.
fn family_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<FamilyRows>> {
    if row.get::<_, Option<String>>(at)?.is_none() {
        return Ok(None);
    }
    Ok(Some((
        refresh_row_at(row, at)?,
        grant_at(row, at + REFRESH_COLS)?,
        user_at(row, at + REFRESH_COLS + GRANT_COLS)?,
        row.get::<_, bool>(at + REFRESH_COLS + GRANT_COLS + USER_COLS)?,
    )))
}

fn code_and_user(rows: Option<CodeAndUserRows>) -> StoreResult<Option<CodeAndUser>> {
    let Some((code, user)) = rows else {
        return Ok(None);
    };
    Ok(Some((
        AuthCode::try_from(code)?,
        user.map(User::try_from).transpose()?,
    )))
}

fn refresh_family(rows: Option<FamilyRows>) -> StoreResult<Option<RefreshFamily>> {
    let Some((token, grant, user, device_grant)) = rows else {
        return Ok(None);
    };
    let grant = grant.map(Grant::try_from).transpose()?;
    Ok(Some(RefreshFamily {
        token: token.try_into()?,
        device_grant: device_grant && grant.is_some(),
        grant,
        user: user.map(User::try_from).transpose()?,
    }))
}

fn code_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<AuthCodeRow> {
    Ok(AuthCodeRow {
        code_hash: row.get(at)?,
        grant_id: row.get(at + 1)?,
        client_id: row.get(at + 2)?,
        user_id: row.get(at + 3)?,
        auth_server_id: row.get(at + 4)?,
        redirect_uri: row.get(at + 5)?,
        scopes: row.get(at + 6)?,
        nonce: row.get(at + 7)?,
        code_challenge: row.get(at + 8)?,
        auth_time: row.get(at + 9)?,
        amr: row.get(at + 10)?,
        acr: row.get(at + 11)?,
        session_id_hash: row.get(at + 12)?,
        created: row.get(at + 13)?,
        expires_at: row.get(at + 14)?,
        used_at: row.get(at + 15)?,
    })
}

fn refresh_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<RefreshTokenRow> {
    Ok(RefreshTokenRow {
        token_hash: row.get(at)?,
        grant_id: row.get(at + 1)?,
        client_id: row.get(at + 2)?,
        scopes: row.get(at + 3)?,
        created: row.get(at + 4)?,
        expires_at: row.get(at + 5)?,
        rotated_at: row.get(at + 6)?,
        revoked_at: row.get(at + 7)?,
    })
}

/// The grant's columns from `at` on; `None` when the outer join found none.
fn grant_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<GrantRow>> {
    let Some(id) = row.get::<_, Option<String>>(at)? else {
        return Ok(None);
    };
    Ok(Some(GrantRow {
        id,
        client_id: row.get(at + 1)?,
        user_id: row.get(at + 2)?,
        auth_server_id: row.get(at + 3)?,
        scopes: row.get(at + 4)?,
        auth_time: row.get(at + 5)?,
        amr: row.get(at + 6)?,
        acr: row.get(at + 7)?,
        created: row.get(at + 8)?,
        revoked_at: row.get(at + 9)?,
    }))
}

/// The user's columns from `at` on; `None` when the outer join found none.
fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<UserRow>> {
    if row.get::<_, Option<String>>(at)?.is_none() {
        return Ok(None);
    }
    crate::direct_read::user_row_at(row, at).map(Some)
}
