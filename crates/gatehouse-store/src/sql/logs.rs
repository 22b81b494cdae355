//! The System Log and the sign-in failure counters behind lockout, implemented once in SQL for
//! both backends, like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::{LogEventRecord, LogQuery, StoredLogEvent, Timestamp, UserStatus};
use gatehouse_core::store::{SignInFailureStore, StoreResult, SystemLogStore};

use crate::error::db_err;
use crate::group_commit::WriteOp;
use crate::sql::SqlStore;

use crate::sql::log_query::{LEGACY_CURSOR, known, log_page_statement};
use crate::sql::user_query::Bind;

/// Events purged per transaction: a request that wants to write (SQLite: any write; PostgreSQL:
/// the rows) waits at most one batch, a few milliseconds with the event's indexes and targets.
const PURGE_BATCH: i64 = 100;
/// Rest after each batch, as a multiple of the time it took: the purge takes at most a quarter
/// of the writer (and of a core: the delete is CPU work too), whatever the disk and the load.
const PURGE_REST_FACTOR: u32 = 3;
/// Shortest rest, so that a fast batch still lets queued writers through.
const PURGE_MIN_REST: std::time::Duration = std::time::Duration::from_millis(5);

macro_rules! bind {
    ($q:expr, $b:expr) => {
        match $b {
            Bind::Text(s) => $q.bind(s),
            Bind::Int(i) => $q.bind(i),
        }
    };
}

#[derive(sqlx::FromRow)]
struct LogRow {
    seq: i64,
    uuid: String,
    published_ms: i64,
    event_type: String,
    severity: String,
    outcome_result: String,
    actor_id: Option<String>,
    actor_alternate_id: Option<String>,
    target_ids: String,
    search_text: String,
    body: String,
}

impl From<LogRow> for StoredLogEvent {
    fn from(r: LogRow) -> Self {
        StoredLogEvent {
            seq: r.seq,
            event: LogEventRecord {
                uuid: r.uuid,
                published_ms: r.published_ms,
                event_type: r.event_type,
                severity: r.severity,
                outcome_result: r.outcome_result,
                actor_id: r.actor_id,
                actor_alternate_id: r.actor_alternate_id,
                target_ids: r.target_ids.split_whitespace().map(str::to_owned).collect(),
                search_text: r.search_text,
                body: r.body,
            },
        }
    }
}

/// One purge batch on SQLite: the oldest events, their `system_log_targets` rows with them
/// (`ON DELETE CASCADE`, found through their primary key, `event_seq` first). Returns the
/// events' `seq`.
const PURGE_SQLITE: &str = "DELETE FROM system_log WHERE seq IN (SELECT seq FROM system_log \
    WHERE published_ms < $1 ORDER BY published_ms LIMIT $2) RETURNING seq";

/// One purge batch on PostgreSQL, whose `system_log_targets` has no foreign key (migration
/// 0034): the events and their targets in one statement, the targets by their primary key
/// (`event_seq = ANY`, `event_seq` first).
const PURGE_POSTGRES: &str = "WITH gone AS (DELETE FROM system_log WHERE seq IN \
    (SELECT seq FROM system_log WHERE published_ms < $1 ORDER BY published_ms LIMIT $2) \
    RETURNING seq), \
    targets AS (DELETE FROM system_log_targets \
    WHERE event_seq = ANY (ARRAY(SELECT seq FROM gone))) \
    SELECT seq FROM gone";

macro_rules! impl_log_stores {
    ($db:ty, $purge:expr) => {
        #[async_trait]
        impl SignInFailureStore for SqlStore<$db> {
            async fn record_signin_failure(
                &self,
                user_id: &str,
                now: Timestamp,
            ) -> StoreResult<u64> {
                // Every password sign-in writes here (before its hash is checked): in turn
                // with the node's other writers.
                let _turn = self.gate().enter().await;
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO signin_failures (user_id, failures, last_failure) VALUES ($1, 1, $2)
                     ON CONFLICT (user_id)
                     DO UPDATE SET failures = signin_failures.failures + 1, last_failure = $2
                     RETURNING failures",
                )
                .bind(user_id)
                .bind(now)
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
                Ok(u64::try_from(failures).unwrap_or(0))
            }

            async fn reset_signin_failures(&self, user_id: &str) -> StoreResult<()> {
                let _turn = self.gate().enter().await;
                sqlx::query("DELETE FROM signin_failures WHERE user_id = $1")
                    .bind(user_id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn lock_user(&self, user_id: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET status = $1, status_changed = $2, last_updated = $2 \
                     WHERE id = $3 AND status = $4",
                )
                .bind(UserStatus::LockedOut.as_str())
                .bind(now)
                .bind(user_id)
                .bind(UserStatus::Active.as_str())
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn unlock_user_locked_before(
                &self,
                user_id: &str,
                locked_before: Timestamp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let done = sqlx::query(
                    "UPDATE users SET status = $1, status_changed = $2, last_updated = $2 \
                     WHERE id = $3 AND status = $4 AND COALESCE(status_changed, 0) <= $5",
                )
                .bind(UserStatus::Active.as_str())
                .bind(now)
                .bind(user_id)
                .bind(UserStatus::LockedOut.as_str())
                .bind(locked_before)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let unlocked = done.rows_affected() == 1;
                if unlocked {
                    sqlx::query("DELETE FROM signin_failures WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(unlocked)
            }
        }

        #[async_trait]
        impl SystemLogStore for SqlStore<$db> {
            async fn append_log_events(&self, events: &[LogEventRecord]) -> StoreResult<()> {
                if events.is_empty() {
                    return Ok(());
                }
                let ops = events.iter().cloned().map(WriteOp::LogEvent).collect();
                self.writer().write(ops).await
            }

            async fn list_log_events(&self, query: &LogQuery) -> StoreResult<Vec<StoredLogEvent>> {
                let cursor = match query.after {
                    Some(c) if c.published_ms.is_none() => {
                        sqlx::query_as::<_, (i64, i64)>(LEGACY_CURSOR)
                            .bind(c.seq)
                            .fetch_optional(self.pool())
                            .await
                            .map_err(db_err)?
                    }
                    other => known(other),
                };
                let (sql, binds) = log_page_statement(query, cursor);
                // Not prepared for reuse: PostgreSQL then plans with the values at hand.
                let mut q = sqlx::query_as::<_, LogRow>(&sql).persistent(false);
                for b in binds {
                    q = bind!(q, b);
                }
                let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
                Ok(rows.into_iter().map(StoredLogEvent::from).collect())
            }

            async fn purge_log_events(&self, before_ms: i64) -> StoreResult<u64> {
                // In small batches, each its own transaction, with a rest between them. On
                // SQLite each batch takes its turn in the node's write queue like any request
                // write, so a request waits for at most one batch and is woken as soon as it
                // commits. Each event's `system_log_targets` rows go with it (`PURGE_SQLITE`,
                // `PURGE_POSTGRES`).
                let mut purged = 0;
                let (mut batches, mut busy) = (0u32, std::time::Duration::ZERO);
                loop {
                    let turn = self.gate().enter().await;
                    let started = std::time::Instant::now();
                    // Planned with the values at hand, by the tables' sizes now.
                    let gone: Vec<i64> = sqlx::query_scalar($purge)
                        .persistent(false)
                        .bind(before_ms)
                        .bind(PURGE_BATCH)
                        .fetch_all(self.pool())
                        .await
                        .map_err(db_err)?;
                    let done = u64::try_from(gone.len()).unwrap_or(u64::MAX);
                    let took = started.elapsed();
                    drop(turn);
                    batches += 1;
                    busy += took;
                    purged += done;
                    if done < PURGE_BATCH as u64 {
                        break;
                    }
                    tokio::time::sleep((took * PURGE_REST_FACTOR).max(PURGE_MIN_REST)).await;
                }
                tracing::debug!(
                    purged,
                    batches,
                    busy_ms = busy.as_millis() as u64,
                    "System Log purge batches"
                );
                // Counters of users deleted since go with them.
                let orphans = sqlx::query(
                    "DELETE FROM signin_failures \
                     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = signin_failures.user_id)",
                )
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(purged + orphans.rows_affected())
            }
        }
    };
}

impl_log_stores!(sqlx::Sqlite, PURGE_SQLITE);
impl_log_stores!(sqlx::Postgres, PURGE_POSTGRES);
