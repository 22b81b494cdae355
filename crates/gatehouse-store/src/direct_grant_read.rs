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

use gatehouse_core::domain::{AuthCode, Grant, User};
use gatehouse_core::store::{RefreshFamily, StoreResult};
use rusqlite::{OptionalExtension, Row};

use crate::direct_read::DirectReader;
use crate::rows::{AuthCodeRow, GrantRow, RefreshTokenRow, UserRow, grant_cols, user_cols};

/// The code (columns 0..16) and its user (16.., all null when the user is gone).
const CODE_AND_USER: &str = concat!(
    "SELECT c.code_hash, c.grant_id, c.client_id, c.user_id, c.auth_server_id, c.redirect_uri, \
     c.scopes, c.nonce, c.code_challenge, c.auth_time, c.amr, c.acr, c.session_id_hash, \
     c.created, c.expires_at, c.used_at, ",
    "u.id, u.status, u.login, u.email, u.first_name, u.last_name, u.display_name, \
     u.password_hash, u.created, u.last_updated, u.activated, u.status_changed, u.last_login, \
     u.password_changed",
    " FROM auth_codes c LEFT JOIN users u ON u.id = c.user_id WHERE c.code_hash = ?1"
);
const CODE_COLS: usize = 16;

/// The token (0..8), its grant (8..18, null when gone), the grant's user (18..32, null when
/// none or gone) and its device flag (32).
const REFRESH_FAMILY: &str = concat!(
    "SELECT r.token_hash, r.grant_id, r.client_id, r.scopes, r.created, r.expires_at, \
     r.rotated_at, r.revoked_at, ",
    "g.id, g.client_id, g.user_id, g.auth_server_id, g.scopes, g.auth_time, g.amr, g.acr, \
     g.created, g.revoked_at, ",
    "u.id, u.status, u.login, u.email, u.first_name, u.last_name, u.display_name, \
     u.password_hash, u.created, u.last_updated, u.activated, u.status_changed, u.last_login, \
     u.password_changed, ",
    "EXISTS (SELECT 1 FROM device_grants d WHERE d.grant_id = r.grant_id) \
     FROM refresh_tokens r LEFT JOIN grants g ON g.id = r.grant_id \
     LEFT JOIN users u ON u.id = g.user_id WHERE r.token_hash = ?1"
);
const REFRESH_COLS: usize = 8;
const GRANT_COLS: usize = 10;
const USER_COLS: usize = 14;

const GRANT: &str = concat!("SELECT ", grant_cols!(), " FROM grants WHERE id = ?1");

// The column lists above spell out `user_cols!()` and `grant_cols!()` with a table prefix;
// these keep them in step (a column added there must be added here).
const _: () = assert!(count_cols(user_cols!()) == USER_COLS);
const _: () = assert!(count_cols(grant_cols!()) == GRANT_COLS);

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

impl DirectReader {
    /// The code and its user; `None` when it could not be read here (read it via sqlx).
    pub(crate) fn code_and_user(
        &self,
        code_hash: &str,
    ) -> Option<StoreResult<Option<CodeAndUser>>> {
        let row = self.read(|conn| {
            conn.prepare_cached(CODE_AND_USER)?
                .query_row([code_hash], |row| {
                    Ok((code_row(row)?, user_at(row, CODE_COLS)?))
                })
                .optional()
        })?;
        let Some((code, user)) = row else {
            return Some(Ok(None));
        };
        decode(|| {
            Ok(Some((
                AuthCode::try_from(code)?,
                user.map(User::try_from).transpose()?,
            )))
        })
    }

    /// The refresh token with its grant, user and device flag; `None` as above.
    pub(crate) fn refresh_family(
        &self,
        token_hash: &str,
    ) -> Option<StoreResult<Option<RefreshFamily>>> {
        let row = self.read(|conn| {
            conn.prepare_cached(REFRESH_FAMILY)?
                .query_row([token_hash], |row| {
                    Ok((
                        refresh_row(row)?,
                        grant_at(row, REFRESH_COLS)?,
                        user_at(row, REFRESH_COLS + GRANT_COLS)?,
                        row.get::<_, bool>(REFRESH_COLS + GRANT_COLS + USER_COLS)?,
                    ))
                })
                .optional()
        })?;
        let Some((token, grant, user, device_grant)) = row else {
            return Some(Ok(None));
        };
        decode(|| {
            let grant = grant.map(Grant::try_from).transpose()?;
            Ok(Some(RefreshFamily {
                token: token.try_into()?,
                device_grant: device_grant && grant.is_some(),
                grant,
                user: user.map(User::try_from).transpose()?,
            }))
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

fn code_row(row: &Row<'_>) -> rusqlite::Result<AuthCodeRow> {
    Ok(AuthCodeRow {
        code_hash: row.get(0)?,
        grant_id: row.get(1)?,
        client_id: row.get(2)?,
        user_id: row.get(3)?,
        auth_server_id: row.get(4)?,
        redirect_uri: row.get(5)?,
        scopes: row.get(6)?,
        nonce: row.get(7)?,
        code_challenge: row.get(8)?,
        auth_time: row.get(9)?,
        amr: row.get(10)?,
        acr: row.get(11)?,
        session_id_hash: row.get(12)?,
        created: row.get(13)?,
        expires_at: row.get(14)?,
        used_at: row.get(15)?,
    })
}

fn refresh_row(row: &Row<'_>) -> rusqlite::Result<RefreshTokenRow> {
    Ok(RefreshTokenRow {
        token_hash: row.get(0)?,
        grant_id: row.get(1)?,
        client_id: row.get(2)?,
        scopes: row.get(3)?,
        created: row.get(4)?,
        expires_at: row.get(5)?,
        rotated_at: row.get(6)?,
        revoked_at: row.get(7)?,
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
