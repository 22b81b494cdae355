//! Storage of rate-limit counters ([`RateLimitStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::SqlStore;
use crate::error::db_err;

/// One more hit, in one statement (`$1` bucket, `$2` window start): the count after it.
const HIT: &str = "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (bucket, window_start)
     DO UPDATE SET hits = rate_limits.hits + 1
     RETURNING hits";

/// [`HIT`] on PostgreSQL, committed without waiting for its WAL flush (`synchronous_commit`
/// off for this statement's transaction only). Every request of one API token (or from one
/// address) increments the same row, and an upsert holds that row's lock until its commit:
/// waiting for each flush in turn queued them behind one another, 27–107 ms at the cost curve's
/// p99 at 1M users while a checkpoint slowed the flushes. A crash of PostgreSQL can forget the
/// last fraction of a second of hits (never tear the row); they are counts, not anyone's data,
/// and everything else keeps its durable commit.
const HIT_POSTGRES: &str = "INSERT INTO rate_limits (bucket, window_start, hits)
     SELECT $1::TEXT, $2::BIGINT, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
     ON CONFLICT (bucket, window_start)
     DO UPDATE SET hits = rate_limits.hits + 1
     RETURNING hits";

macro_rules! impl_rate_limit_store {
    ($db:ty, $hit:expr) => {
        #[async_trait]
        impl RateLimitStore for SqlStore<$db> {
            async fn hit_rate_limit(
                &self,
                bucket: &str,
                window_start: Timestamp,
            ) -> StoreResult<u64> {
                // Every API request writes here: in turn with the node's other writers.
                let _turn = self.gate().enter().await;
                let hits: i64 = sqlx::query_scalar($hit)
                    .bind(bucket)
                    .bind(window_start)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(u64::try_from(hits).unwrap_or(0))
            }

            async fn rate_limit_hits(
                &self,
                bucket: &str,
                window_start: Timestamp,
            ) -> StoreResult<u64> {
                let hits: Option<i64> = sqlx::query_scalar(
                    "SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2",
                )
                .bind(bucket)
                .bind(window_start)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(hits.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
            }

            async fn rate_limit_hits_of(
                &self,
                buckets: &[&str],
                window_start: Timestamp,
            ) -> StoreResult<Vec<u64>> {
                // Every token request peeks at two buckets: on the calling thread (SQLite
                // files), else batched with the node's concurrent peeks (crate::read_batch);
                // either way read by queries started after this call.
                if buckets.is_empty() {
                    return Ok(Vec::new());
                }
                let hits = self.reads.rate_limit_hits(buckets, window_start).await?;
                Ok(hits
                    .into_iter()
                    .map(|h| u64::try_from(h).unwrap_or(0))
                    .collect())
            }

            async fn peek_rate_limits_with_access_token(
                &self,
                buckets: &[&str],
                window_start: Timestamp,
                token: Option<AccessTokenKey<'_>>,
            ) -> StoreResult<RateLimitsWithToken> {
                // Introspection's every request: one statement on the calling thread (SQLite
                // files) or one batched query (PostgreSQL), started after this call.
                let (hits, token) = self
                    .reads
                    .rate_limits_with_token(buckets, window_start, token)
                    .await?;
                Ok(RateLimitsWithToken {
                    hits: hits
                        .into_iter()
                        .map(|h| u64::try_from(h).unwrap_or(0))
                        .collect(),
                    token,
                })
            }

            async fn peek_rate_limits_with_grant(
                &self,
                buckets: &[&str],
                window_start: Timestamp,
                grant: GrantKey<'_>,
            ) -> StoreResult<(Vec<u64>, GrantLookup)> {
                // Every code exchange and refresh: one statement on the calling thread (SQLite
                // files), else one query, started after this call.
                match self
                    .reads
                    .rate_limits_with_grant(buckets, window_start, grant)
                    .await
                {
                    Some(read) => {
                        let (hits, found) = read?;
                        let hits = hits
                            .into_iter()
                            .map(|h| u64::try_from(h).unwrap_or(0))
                            .collect();
                        Ok((hits, found))
                    }
                    None => self.throttle_with_grant(buckets, window_start, grant).await,
                }
            }
        }
    };
}

impl_rate_limit_store!(sqlx::Sqlite, HIT);
impl_rate_limit_store!(sqlx::Postgres, HIT_POSTGRES);
