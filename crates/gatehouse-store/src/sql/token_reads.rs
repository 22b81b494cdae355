//! The batched reads of protected requests ([`crate::read_batch`]): access-token records by
//! `jti`, a token's record with its user by (`jti`, user id), and the client-authentication
//! throttle's counters by (bucket, window), which every token request reads before it checks its
//! client's credentials. Also the code exchange's and the refresh grant's reads on the calling
//! thread (SQLite files only, [`crate::direct_grant_read`]; elsewhere they go through sqlx). One query per batch: SQLite
//! takes the keys as a JSON array (`json_each`), PostgreSQL as arrays (`= ANY`, `unnest`), so
//! each backend keeps one prepared statement per read whatever the batch's size. A SQLite file
//! database reads on the calling thread first, all three ([`crate::direct_read`]); the batch is
//! its fallback.
//!
//! PostgreSQL's statements are shaped so that the server plans each of them once per
//! connection. A prepared statement is planned anew on every execution (a "custom plan") as long
//! as its generic plan looks costlier than the custom ones; with the keys in `unnest($1)` or
//! `= ANY($1)` it always does, since a custom plan sees how few keys there are and the generic
//! one guesses 10 or 100. Planning these joins cost the backend ~100 µs a batch, six times their
//! execution. So the keys are walked by `generate_subscripts`, which estimates 1,000 rows
//! whether it sees the array or not (custom and generic plans cost the same, and PostgreSQL
//! keeps the generic one after its fifth execution), and every row is looked up by a
//! `LATERAL (… LIMIT 1)` on its primary key: a nested loop of index probes, which no row
//! estimate can turn into a hash join over a whole table.

use std::collections::HashMap;

use async_trait::async_trait;
use gatehouse_core::domain::{AccessTokenRecord, AuthCode, Grant, User};
use gatehouse_core::store::{
    AccessTokenKey, GrantKey, GrantLookup, RefreshFamily, StoreError, StoreResult, TokenLookup,
};

use crate::direct_read::DirectReader;
use crate::error::db_err;
use crate::read_batch::{BatchLoad, ReadBatcher};
use crate::rows::*;

/// (`jti`, user id).
pub(crate) type TokenUserKey = (String, String);
/// The token's record (if any) and its user, found.
pub(crate) type TokenAndUser = (Option<AccessTokenRecord>, User);

/// (bucket, window start).
pub(crate) type RateKey = (String, i64);

/// Introspection's one read: the throttle's two buckets (either may be absent) in one window,
/// and an access token's `jti` and user id (either may be absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ThrottleKey {
    buckets: [Option<String>; 2],
    window_start: i64,
    jti: Option<String>,
    user_id: Option<String>,
}

/// What a [`ThrottleKey`] reads: the buckets' hits (0 for none), the token's record, its user.
pub(crate) type ThrottleRead = ([i64; 2], Option<AccessTokenRecord>, Option<User>);

/// A node's readers for the three reads: on the calling thread where it can (SQLite files),
/// else batched.
pub(crate) struct TokenReads {
    direct: Option<DirectReader>,
    pub(crate) access_tokens: ReadBatcher<String, AccessTokenRecord>,
    pub(crate) with_users: ReadBatcher<TokenUserKey, TokenAndUser>,
    /// Rate-limit counters; a bucket with no row in its window is absent (no hits).
    pub(crate) rate_limits: ReadBatcher<RateKey, i64>,
    /// Introspection's counters and token in one query (PostgreSQL; SQLite reads them on the
    /// calling thread, or else apart).
    pub(crate) with_throttle: Option<ReadBatcher<ThrottleKey, ThrottleRead>>,
}

impl TokenReads {
    /// With reads on the calling thread first (a SQLite file database; see
    /// [`crate::direct_read`]).
    pub(crate) fn with_direct(mut self, direct: DirectReader) -> Self {
        self.direct = Some(direct);
        self
    }

    /// The access token's record, read by a query that starts after this call.
    pub(crate) async fn access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>> {
        if let Some(direct) = &self.direct {
            // A direct read never suspends: spend the task's cooperative budget, so a caller
            // that reads in a loop still lets the runtime's other tasks run.
            tokio::task::consume_budget().await;
            if let Some(found) = direct.access_token(jti) {
                return found;
            }
        }
        self.access_tokens.load(jti.to_owned()).await
    }

    /// The token's record (if any) and its user, `None` when there is no such user.
    pub(crate) async fn access_token_and_user(
        &self,
        jti: &str,
        user_id: &str,
    ) -> StoreResult<Option<TokenAndUser>> {
        if let Some(direct) = &self.direct {
            tokio::task::consume_budget().await;
            if let Some(found) = direct.access_token_and_user(jti, user_id) {
                return found;
            }
        }
        self.with_users
            .load((jti.to_owned(), user_id.to_owned()))
            .await
    }

    /// The code and its user, read on the calling thread; `None`: read it through sqlx (not a
    /// SQLite file, or the direct read failed).
    pub(crate) async fn code_and_user(
        &self,
        code_hash: &str,
    ) -> Option<StoreResult<Option<(AuthCode, Option<User>)>>> {
        let direct = self.direct.as_ref()?;
        // A direct read never suspends: spend the task's cooperative budget, as above.
        tokio::task::consume_budget().await;
        direct.code_and_user(code_hash)
    }

    /// The refresh token with its grant, user and device flag; `None` as above.
    pub(crate) async fn refresh_family(
        &self,
        token_hash: &str,
    ) -> Option<StoreResult<Option<RefreshFamily>>> {
        let direct = self.direct.as_ref()?;
        tokio::task::consume_budget().await;
        direct.refresh_family(token_hash)
    }

    /// The throttle's hits of each bucket (at most two) in the window starting at
    /// `window_start`, in order (0 for none), and what `grant` names, in one statement on the
    /// calling thread; `None` as above.
    pub(crate) async fn rate_limits_with_grant(
        &self,
        buckets: &[&str],
        window_start: i64,
        grant: GrantKey<'_>,
    ) -> Option<StoreResult<(Vec<i64>, GrantLookup)>> {
        let direct = self.direct.as_ref()?;
        tokio::task::consume_budget().await;
        Some(match grant {
            GrantKey::Code(hash) => direct
                .rate_limits_with_code(buckets, window_start, hash)?
                .map(|(hits, found)| {
                    let code_hash = hash.to_owned();
                    (hits, GrantLookup::Code { code_hash, found })
                }),
            GrantKey::Refresh(hash) => direct
                .rate_limits_with_family(buckets, window_start, hash)?
                .map(|(hits, found)| {
                    let token_hash = hash.to_owned();
                    (hits, GrantLookup::Refresh { token_hash, found })
                }),
        })
    }

    /// The grant; `None` as above.
    pub(crate) async fn grant(&self, id: &str) -> Option<StoreResult<Option<Grant>>> {
        let direct = self.direct.as_ref()?;
        tokio::task::consume_budget().await;
        direct.grant(id)
    }

    /// The throttle's hits of each bucket in the window starting at `window_start`, in order
    /// (0 for none), read by queries that start after this call.
    pub(crate) async fn rate_limit_hits(
        &self,
        buckets: &[&str],
        window_start: i64,
    ) -> StoreResult<Vec<i64>> {
        if let Some(direct) = &self.direct {
            tokio::task::consume_budget().await;
            if let Some(found) = direct.rate_limit_hits(buckets, window_start) {
                return found;
            }
        }
        let keys = buckets
            .iter()
            .map(|bucket| ((*bucket).to_owned(), window_start))
            .collect();
        self.rate_limits
            .load_many(keys)
            .await
            .into_iter()
            .map(|hits| Ok(hits?.unwrap_or(0)))
            .collect()
    }
}

impl TokenReads {
    /// The hits of each bucket in the window starting at `window_start` and, when `token` names
    /// one, its record and user (see `RateLimitStore::peek_rate_limits_with_access_token`), in
    /// one query where the backend can (SQLite on the calling thread, PostgreSQL batched);
    /// otherwise apart.
    pub(crate) async fn rate_limits_with_token(
        &self,
        buckets: &[&str],
        window_start: i64,
        token: Option<AccessTokenKey<'_>>,
    ) -> StoreResult<(Vec<i64>, Option<TokenLookup>)> {
        if let Some(direct) = &self.direct {
            tokio::task::consume_budget().await;
            if let Some(found) = direct.rate_limits_with_token(buckets, window_start, token) {
                return found;
            }
        }
        if let (Some(batcher), true) = (&self.with_throttle, buckets.len() <= 2) {
            let key = ThrottleKey {
                buckets: [0, 1].map(|i| buckets.get(i).map(|b| (*b).to_owned())),
                window_start,
                jti: token.map(|t| t.jti.to_owned()),
                user_id: token.and_then(|t| t.user_id.map(str::to_owned)),
            };
            // Every key has its row (the query is driven by the keys).
            let (hits, record, user) = batcher
                .load(key)
                .await?
                .ok_or_else(|| StoreError::Backend("introspection read without its row".into()))?;
            let hits = hits.into_iter().take(buckets.len()).collect();
            return Ok((hits, token.map(|_| (record, user))));
        }
        let hits = self.rate_limit_hits(buckets, window_start).await?;
        let found = match token {
            None => None,
            Some(AccessTokenKey {
                jti,
                user_id: Some(uid),
            }) => Some(match self.access_token_and_user(jti, uid).await? {
                Some((record, user)) => (record, Some(user)),
                None => (self.access_token(jti).await?, None),
            }),
            Some(AccessTokenKey { jti, user_id: None }) => {
                Some((self.access_token(jti).await?, None))
            }
        };
        Ok((hits, found))
    }
}

/// Builds a backend's [`TokenReads`] over its pool.
pub trait TokenReadBackend: sqlx::Database {
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn token_reads(pool: sqlx::Pool<Self>) -> TokenReads;
}

/// PostgreSQL: batches whose queries may run at once. The database works on the other core
/// meanwhile, so a second batch fills while one is out; more would only make them smaller.
const PG_BATCHES_RUNNING: usize = 2;
/// SQLite: one batch at a time. Its query runs on the node's own CPU (a connection's thread):
/// a second one would only split the waiting keys into two queries and two thread hops.
const SQLITE_BATCHES_RUNNING: usize = 1;

struct AccessTokens<DB: sqlx::Database>(sqlx::Pool<DB>);
struct WithUsers<DB: sqlx::Database>(sqlx::Pool<DB>);
struct RateLimits<DB: sqlx::Database>(sqlx::Pool<DB>);
struct Throttled<DB: sqlx::Database>(sqlx::Pool<DB>);

impl TokenReadBackend for sqlx::Sqlite {
    #[allow(private_interfaces)]
    fn token_reads(pool: sqlx::Pool<Self>) -> TokenReads {
        TokenReads {
            direct: None,
            access_tokens: ReadBatcher::new(AccessTokens(pool.clone()), SQLITE_BATCHES_RUNNING),
            with_users: ReadBatcher::new(WithUsers(pool.clone()), SQLITE_BATCHES_RUNNING),
            rate_limits: ReadBatcher::new(RateLimits(pool), SQLITE_BATCHES_RUNNING),
            with_throttle: None,
        }
    }
}

impl TokenReadBackend for sqlx::Postgres {
    #[allow(private_interfaces)]
    fn token_reads(pool: sqlx::Pool<Self>) -> TokenReads {
        TokenReads {
            direct: None,
            access_tokens: ReadBatcher::new(AccessTokens(pool.clone()), PG_BATCHES_RUNNING),
            with_users: ReadBatcher::new(WithUsers(pool.clone()), PG_BATCHES_RUNNING),
            rate_limits: ReadBatcher::new(RateLimits(pool.clone()), PG_BATCHES_RUNNING),
            with_throttle: Some(ReadBatcher::new(Throttled(pool), PG_BATCHES_RUNNING)),
        }
    }
}

fn by_jti(rows: Vec<AccessTokenRow>) -> HashMap<String, AccessTokenRecord> {
    rows.into_iter()
        .map(|row| {
            let record = AccessTokenRecord::from(row);
            (record.jti.clone(), record)
        })
        .collect()
}

/// Rows of [`WithUsers`]: the key's `jti` (the token may be missing) and the user's row joined
/// with the token's.
#[derive(sqlx::FromRow)]
struct KeyedUserRow {
    k_jti: String,
    #[sqlx(flatten)]
    row: UserAndAccessTokenRow,
}

fn by_key(rows: Vec<KeyedUserRow>) -> StoreResult<HashMap<TokenUserKey, TokenAndUser>> {
    rows.into_iter()
        .map(|keyed| {
            let token = keyed.row.access_token();
            let user = User::try_from(keyed.row.user)?;
            Ok(((keyed.k_jti, user.id.clone()), (token, user)))
        })
        .collect()
}

/// The joined columns of [`KeyedUserRow`], after the key's `jti`.
macro_rules! keyed_user_cols {
    () => {
        concat!(
            "k.k_jti, ",
            user_cols!(),
            ", a.jti AS at_jti, a.grant_id AS at_grant_id, a.client_id AS at_client_id, \
             a.expires_at AS at_expires_at, a.revoked_at AS at_revoked_at"
        )
    };
}

/// The token's columns as [`UserAndAccessTokenRow`] names them, for PostgreSQL's lateral reads.
macro_rules! pg_access_as_at {
    () => {
        "jti AS at_jti, grant_id AS at_grant_id, client_id AS at_client_id, \
         expires_at AS at_expires_at, revoked_at AS at_revoked_at"
    };
}

#[async_trait]
impl BatchLoad<String, AccessTokenRecord> for AccessTokens<sqlx::Sqlite> {
    async fn load(&self, jtis: &[String]) -> StoreResult<HashMap<String, AccessTokenRecord>> {
        let rows: Vec<AccessTokenRow> = sqlx::query_as(concat!(
            "SELECT ",
            access_cols!(),
            " FROM access_tokens WHERE jti IN (SELECT value FROM json_each($1))"
        ))
        .bind(to_json(&jtis)?)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        Ok(by_jti(rows))
    }
}

#[async_trait]
impl BatchLoad<String, AccessTokenRecord> for AccessTokens<sqlx::Postgres> {
    async fn load(&self, jtis: &[String]) -> StoreResult<HashMap<String, AccessTokenRecord>> {
        // Shaped for one generic plan (see the module docs).
        let rows: Vec<AccessTokenRow> = sqlx::query_as(concat!(
            "SELECT a.* FROM generate_subscripts($1::text[], 1) AS k(i) CROSS JOIN LATERAL \
             (SELECT ",
            access_cols!(),
            " FROM access_tokens WHERE jti = ($1::text[])[k.i] LIMIT 1) a"
        ))
        .bind(jtis)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        Ok(by_jti(rows))
    }
}

#[async_trait]
impl BatchLoad<TokenUserKey, TokenAndUser> for WithUsers<sqlx::Sqlite> {
    async fn load(
        &self,
        keys: &[TokenUserKey],
    ) -> StoreResult<HashMap<TokenUserKey, TokenAndUser>> {
        // `[[jti, uid], …]`: serde writes a tuple as an array.
        let rows: Vec<KeyedUserRow> = sqlx::query_as(concat!(
            "SELECT ",
            keyed_user_cols!(),
            " FROM (SELECT value ->> 0 AS k_jti, value ->> 1 AS k_uid FROM json_each($1)) k \
             JOIN users ON users.id = k.k_uid LEFT JOIN access_tokens a ON a.jti = k.k_jti"
        ))
        .bind(to_json(&keys)?)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        by_key(rows)
    }
}

#[async_trait]
impl BatchLoad<TokenUserKey, TokenAndUser> for WithUsers<sqlx::Postgres> {
    async fn load(
        &self,
        keys: &[TokenUserKey],
    ) -> StoreResult<HashMap<TokenUserKey, TokenAndUser>> {
        let (jtis, uids): (Vec<&str>, Vec<&str>) = keys
            .iter()
            .map(|(jti, uid)| (jti.as_str(), uid.as_str()))
            .unzip();
        // Shaped for one generic plan (see the module docs).
        let rows: Vec<KeyedUserRow> = sqlx::query_as(concat!(
            "SELECT ($1::text[])[k.i] AS k_jti, u.*, a.* \
             FROM generate_subscripts($1::text[], 1) AS k(i) CROSS JOIN LATERAL (SELECT ",
            user_cols!(),
            " FROM users WHERE id = ($2::text[])[k.i] LIMIT 1) u LEFT JOIN LATERAL (SELECT ",
            pg_access_as_at!(),
            " FROM access_tokens WHERE jti = ($1::text[])[k.i] LIMIT 1) a ON true"
        ))
        .bind(jtis)
        .bind(uids)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        by_key(rows)
    }
}

fn by_rate_key(rows: Vec<(String, i64, i64)>) -> HashMap<RateKey, i64> {
    rows.into_iter()
        .map(|(bucket, window_start, hits)| ((bucket, window_start), hits))
        .collect()
}

#[async_trait]
impl BatchLoad<RateKey, i64> for RateLimits<sqlx::Sqlite> {
    async fn load(&self, keys: &[RateKey]) -> StoreResult<HashMap<RateKey, i64>> {
        // `[[bucket, window_start], …]`; each pair is looked up by the primary key.
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT r.bucket, r.window_start, r.hits FROM \
             (SELECT value ->> 0 AS k_bucket, value ->> 1 AS k_window FROM json_each($1)) k \
             JOIN rate_limits r ON r.bucket = k.k_bucket AND r.window_start = k.k_window",
        )
        .bind(to_json(&keys)?)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        Ok(by_rate_key(rows))
    }
}

#[async_trait]
impl BatchLoad<RateKey, i64> for RateLimits<sqlx::Postgres> {
    async fn load(&self, keys: &[RateKey]) -> StoreResult<HashMap<RateKey, i64>> {
        let (buckets, windows): (Vec<&str>, Vec<i64>) = keys
            .iter()
            .map(|(bucket, window)| (bucket.as_str(), *window))
            .unzip();
        // Shaped for one generic plan (see the module docs).
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT r.* FROM generate_subscripts($1::text[], 1) AS k(i) CROSS JOIN LATERAL \
             (SELECT bucket, window_start, hits FROM rate_limits \
             WHERE bucket = ($1::text[])[k.i] AND window_start = ($2::bigint[])[k.i] LIMIT 1) r",
        )
        .bind(buckets)
        .bind(windows)
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        Ok(by_rate_key(rows))
    }
}

#[async_trait]
impl BatchLoad<ThrottleKey, ThrottleRead> for Throttled<sqlx::Postgres> {
    async fn load(&self, keys: &[ThrottleKey]) -> StoreResult<HashMap<ThrottleKey, ThrottleRead>> {
        use sqlx::{FromRow as _, Row as _};
        let column = |f: fn(&ThrottleKey) -> Option<&str>| keys.iter().map(f).collect::<Vec<_>>();
        let windows: Vec<i64> = keys.iter().map(|k| k.window_start).collect();
        // One row per key (its subscript `i`, from 1): each bucket's hits by the primary key,
        // the user by id and the token by `jti`, all optional (a NULL key finds nothing).
        // Shaped for one generic plan (see the module docs).
        let rows = sqlx::query(concat!(
            "SELECT k.i, \
             (SELECT r.hits FROM rate_limits r \
             WHERE r.bucket = ($1::text[])[k.i] AND r.window_start = ($3::bigint[])[k.i]) \
             AS hits1, \
             (SELECT r.hits FROM rate_limits r \
             WHERE r.bucket = ($2::text[])[k.i] AND r.window_start = ($3::bigint[])[k.i]) \
             AS hits2, u.*, a.* FROM generate_subscripts($3::bigint[], 1) AS k(i) \
             LEFT JOIN LATERAL (SELECT ",
            user_cols!(),
            " FROM users WHERE id = ($5::text[])[k.i] LIMIT 1) u ON true \
             LEFT JOIN LATERAL (SELECT ",
            pg_access_as_at!(),
            " FROM access_tokens WHERE jti = ($4::text[])[k.i] LIMIT 1) a ON true"
        ))
        .bind(column(|k| k.buckets[0].as_deref()))
        .bind(column(|k| k.buckets[1].as_deref()))
        .bind(windows)
        .bind(column(|k| k.jti.as_deref()))
        .bind(column(|k| k.user_id.as_deref()))
        .fetch_all(&self.0)
        .await
        .map_err(db_err)?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let i: i32 = row.try_get("i").map_err(db_err)?;
            let Some(key) = usize::try_from(i - 1).ok().and_then(|i| keys.get(i)) else {
                continue;
            };
            let hits = [
                row.try_get::<Option<i64>, _>("hits1")
                    .map_err(db_err)?
                    .unwrap_or(0),
                row.try_get::<Option<i64>, _>("hits2")
                    .map_err(db_err)?
                    .unwrap_or(0),
            ];
            let user = match row.try_get::<Option<String>, _>("id").map_err(db_err)? {
                Some(_) => Some(User::try_from(UserRow::from_row(&row).map_err(db_err)?)?),
                None => None,
            };
            let record = match row.try_get::<Option<String>, _>("at_jti").map_err(db_err)? {
                Some(jti) => Some(AccessTokenRecord {
                    jti,
                    grant_id: row.try_get("at_grant_id").map_err(db_err)?,
                    client_id: row.try_get("at_client_id").map_err(db_err)?,
                    expires_at: row.try_get("at_expires_at").map_err(db_err)?,
                    revoked_at: row.try_get("at_revoked_at").map_err(db_err)?,
                }),
                None => None,
            };
            out.insert(key.clone(), (hits, record, user));
        }
        Ok(out)
    }
}
