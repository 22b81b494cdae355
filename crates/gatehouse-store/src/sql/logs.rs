//! The System Log and the sign-in failure counters behind lockout, implemented once in SQL for
//! both backends, like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::{
    FilterOp, LogEventRecord, LogField, LogFilter, LogQuery, StoredLogEvent, Timestamp, UserStatus,
};
use gatehouse_core::store::{SignInFailureStore, StoreResult, SystemLogStore};

use crate::error::db_err;
use crate::group_commit::WriteOp;
use crate::sql::SqlStore;

/// A bound value of a dynamically built query.
enum Bind {
    Text(String),
    Int(i64),
}

/// A `LIKE` pattern matching `value` literally (escape character `\`).
fn like_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn log_filter_sql(filter: &LogFilter, binds: &mut Vec<Bind>) -> String {
    match filter {
        LogFilter::And(a, b) => format!(
            "({} AND {})",
            log_filter_sql(a, binds),
            log_filter_sql(b, binds)
        ),
        LogFilter::Or(a, b) => format!(
            "({} OR {})",
            log_filter_sql(a, binds),
            log_filter_sql(b, binds)
        ),
        LogFilter::Not(a) => format!("(NOT {})", log_filter_sql(a, binds)),
        LogFilter::Compare { field, op, value } => {
            let mut bind = |v: String| {
                binds.push(Bind::Text(v));
                format!("${}", binds.len())
            };
            if *field == LogField::TargetId {
                // `target_ids` is " id1 id2 ": a target id matches as a whole word.
                let pattern = match op {
                    FilterOp::Eq | FilterOp::Ne => format!("% {} %", like_literal(value)),
                    FilterOp::Sw => format!("% {}%", like_literal(value)),
                    FilterOp::Co => format!("%{}%", like_literal(value)),
                    FilterOp::Pr => return "target_ids <> ' '".to_owned(),
                };
                let test = format!("target_ids LIKE {} ESCAPE '\\'", bind(pattern));
                return if *op == FilterOp::Ne {
                    format!("(NOT {test})")
                } else {
                    test
                };
            }
            let column = match field {
                LogField::EventType => "event_type",
                LogField::Severity => "severity",
                LogField::OutcomeResult => "outcome_result",
                LogField::ActorId => "COALESCE(actor_id, '')",
                LogField::ActorAlternateId => "COALESCE(actor_alternate_id, '')",
                LogField::TargetId => "target_ids",
            };
            match op {
                FilterOp::Eq => format!("{column} = {}", bind(value.clone())),
                FilterOp::Ne => format!("{column} <> {}", bind(value.clone())),
                FilterOp::Sw => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    bind(format!("{}%", like_literal(value)))
                ),
                FilterOp::Co => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    bind(format!("%{}%", like_literal(value)))
                ),
                FilterOp::Pr => format!("{column} <> ''"),
            }
        }
    }
}

/// The `list_log_events` query and its bound values.
fn list_log_events_sql(query: &LogQuery) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut conditions = Vec::new();
    if let Some(since) = query.since_ms {
        binds.push(Bind::Int(since));
        conditions.push(format!("published_ms >= ${}", binds.len()));
    }
    if let Some(until) = query.until_ms {
        binds.push(Bind::Int(until));
        conditions.push(format!("published_ms < ${}", binds.len()));
    }
    if let Some(f) = &query.filter {
        conditions.push(log_filter_sql(f, &mut binds));
    }
    for word in &query.keywords {
        binds.push(Bind::Text(format!("%{}%", like_literal(word))));
        conditions.push(format!("search_text LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if let Some(after) = query.after_seq {
        binds.push(Bind::Int(after));
        let cmp = if query.descending { "<" } else { ">" };
        conditions.push(format!("seq {cmp} ${}", binds.len()));
    }
    let mut sql = "SELECT seq, uuid, published_ms, event_type, severity, outcome_result, \
                   actor_id, actor_alternate_id, target_ids, search_text, body FROM system_log"
        .to_owned();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let order = if query.descending { "DESC" } else { "ASC" };
    binds.push(Bind::Int(i64::from(query.limit)));
    sql.push_str(&format!(" ORDER BY seq {order} LIMIT ${}", binds.len()));
    (sql, binds)
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

macro_rules! impl_log_stores {
    ($db:ty) => {
        #[async_trait]
        impl SignInFailureStore for SqlStore<$db> {
            async fn record_signin_failure(
                &self,
                user_id: &str,
                now: Timestamp,
            ) -> StoreResult<u64> {
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
                let (sql, binds) = list_log_events_sql(query);
                let mut q = sqlx::query_as::<_, LogRow>(&sql);
                for b in binds {
                    q = match b {
                        Bind::Text(s) => q.bind(s),
                        Bind::Int(i) => q.bind(i),
                    };
                }
                let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
                Ok(rows.into_iter().map(StoredLogEvent::from).collect())
            }

            async fn purge_log_events(&self, before_ms: i64) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM system_log WHERE published_ms < $1")
                    .bind(before_ms)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                // Counters of users deleted since go with them.
                let orphans = sqlx::query(
                    "DELETE FROM signin_failures \
                     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = signin_failures.user_id)",
                )
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() + orphans.rows_affected())
            }
        }
    };
}

impl_log_stores!(sqlx::Sqlite);
impl_log_stores!(sqlx::Postgres);
