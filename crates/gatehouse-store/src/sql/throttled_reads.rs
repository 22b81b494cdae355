//! The token endpoint's first read for a code exchange or a refresh, through sqlx: the
//! client-authentication throttle's counters and the code (with its user) or the refresh token
//! (with its family), in one query, where they were two (the counters batched, then the
//! grant's record). SQLite files read the same on the calling thread first
//! ([`crate::direct_grant_read`]); this is PostgreSQL's read, and SQLite's fallback.
//!
//! The query is driven by a one-row table, so there is a row whatever is missing: the
//! counters' subqueries (a NULL bucket matches nothing) and the record's outer join. Each is a
//! primary-key lookup, so PostgreSQL's generic plan is the custom one.

use gatehouse_core::domain::{AuthCode, User};
use gatehouse_core::store::{GrantKey, GrantLookup, RateLimitStore, StoreResult, TokenStore};
use sqlx::{FromRow as _, Row as _};

use super::SqlStore;
use crate::error::db_err;
use crate::rows::*;

/// A refresh token's columns (`rt_*`), its grant's (`g_*`), its user's (unprefixed, as
/// [`RefreshFamilyRow`] reads them) and the device flag, from `r`, `g` and `u`. The device flag
/// compares `r.grant_id`, not `g.id`: PostgreSQL's `grants.id` is `COLLATE "C"`,
/// `device_grants_pkey` is not, and a comparison in "C" scanned `device_grants` for every
/// refresh.
macro_rules! refresh_family_cols {
    () => {
        "u.*, r.token_hash AS rt_token_hash, r.grant_id AS rt_grant_id, \
         r.client_id AS rt_client_id, r.scopes AS rt_scopes, \
         r.created AS rt_created, r.expires_at AS rt_expires_at, \
         r.rotated_at AS rt_rotated_at, r.revoked_at AS rt_revoked_at, \
         g.client_id AS g_client_id, g.user_id AS g_user_id, \
         g.auth_server_id AS g_auth_server_id, g.scopes AS g_scopes, \
         g.auth_time AS g_auth_time, g.amr AS g_amr, g.acr AS g_acr, g.created AS g_created, \
         g.revoked_at AS g_revoked_at, \
         EXISTS (SELECT 1 FROM device_grants d WHERE d.grant_id = r.grant_id) AS device_grant"
    };
}
pub(crate) use refresh_family_cols;

/// The counters of buckets `$2` and `$3` in the window starting at `$1`, then the record read
/// by `$4` (the subquery `f` that follows).
macro_rules! throttle_hits {
    () => {
        "SELECT (SELECT hits FROM rate_limits WHERE bucket = $2 AND window_start = $1) AS hits1, \
         (SELECT hits FROM rate_limits WHERE bucket = $3 AND window_start = $1) AS hits2, f.* \
         FROM (SELECT 1 AS one) k LEFT JOIN ("
    };
}

const WITH_CODE: &str = concat!(
    throttle_hits!(),
    "SELECT c.*, u.* FROM (SELECT ",
    code_cols!(),
    " FROM auth_codes WHERE code_hash = $4) c LEFT JOIN (SELECT ",
    user_cols!(),
    " FROM users) u ON u.id = c.user_id) f ON true"
);

const WITH_FAMILY: &str = concat!(
    throttle_hits!(),
    "SELECT ",
    refresh_family_cols!(),
    " FROM refresh_tokens r LEFT JOIN grants g ON g.id = r.grant_id LEFT JOIN (SELECT ",
    user_cols!(),
    " FROM users) u ON u.id = g.user_id WHERE r.token_hash = $4) f ON true"
);

/// The buckets one query takes.
const BUCKETS: usize = 2;

macro_rules! impl_throttled_reads {
    ($db:ty) => {
        impl SqlStore<$db> {
            /// [`RateLimitStore::peek_rate_limits_with_grant`] through sqlx: one query for at
            /// most two buckets (two reads otherwise). The hits are in the buckets' order.
            pub(super) async fn throttle_with_grant(
                &self,
                buckets: &[&str],
                window_start: i64,
                grant: GrantKey<'_>,
            ) -> StoreResult<(Vec<u64>, GrantLookup)> {
                if buckets.len() > BUCKETS {
                    let hits = self.rate_limit_hits_of(buckets, window_start).await?;
                    let found = match grant {
                        GrantKey::Code(hash) => GrantLookup::Code {
                            code_hash: hash.to_owned(),
                            found: self.find_code_and_user(hash).await?,
                        },
                        GrantKey::Refresh(hash) => GrantLookup::Refresh {
                            token_hash: hash.to_owned(),
                            found: self.find_refresh_family(hash).await?,
                        },
                    };
                    return Ok((hits, found));
                }
                let (sql, hash) = match grant {
                    GrantKey::Code(hash) => (WITH_CODE, hash),
                    GrantKey::Refresh(hash) => (WITH_FAMILY, hash),
                };
                let row = sqlx::query(sql)
                    .bind(window_start)
                    .bind(buckets.first().copied())
                    .bind(buckets.get(1).copied())
                    .bind(hash)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                let mut hits = Vec::with_capacity(buckets.len());
                for column in ["hits1", "hits2"].into_iter().take(buckets.len()) {
                    let h: Option<i64> = row.try_get(column).map_err(db_err)?;
                    hits.push(h.and_then(|h| u64::try_from(h).ok()).unwrap_or(0));
                }
                // Which of the outer joins found their row: a NULL key column means none.
                let present = |column: &str| -> StoreResult<bool> {
                    Ok(row
                        .try_get::<Option<String>, _>(column)
                        .map_err(db_err)?
                        .is_some())
                };
                let found = match grant {
                    GrantKey::Code(hash) => GrantLookup::Code {
                        code_hash: hash.to_owned(),
                        found: match (present("code_hash")?, present("id")?) {
                            (false, _) => None,
                            (true, false) => Some((
                                AuthCode::try_from(AuthCodeRow::from_row(&row).map_err(db_err)?)?,
                                None,
                            )),
                            (true, true) => {
                                let both = CodeAndUserRow::from_row(&row).map_err(db_err)?;
                                Some((
                                    AuthCode::try_from(both.code)?,
                                    Some(User::try_from(both.user)?),
                                ))
                            }
                        },
                    },
                    GrantKey::Refresh(hash) => GrantLookup::Refresh {
                        token_hash: hash.to_owned(),
                        found: match (
                            present("rt_token_hash")?,
                            present("g_client_id")?,
                            present("id")?,
                        ) {
                            (false, _, _) => None,
                            (true, true, true) => Some(
                                RefreshFamilyRow::from_row(&row)
                                    .map_err(db_err)?
                                    .try_into()?,
                            ),
                            // Its grant or user is gone, or the grant has none (rare): read in
                            // pieces, as the refresh grant's own read does.
                            _ => self.find_refresh_family(hash).await?,
                        },
                    },
                };
                Ok((hits, found))
            }
        }
    };
}

impl_throttled_reads!(sqlx::Sqlite);
impl_throttled_reads!(sqlx::Postgres);
