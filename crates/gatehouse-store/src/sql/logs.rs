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

use crate::sql::user_query::Bind;

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

/// How a condition is written: `Indexed` in the spelling the indexes serve, `Walk` in one none
/// matches (`|| ''`, `+ 0`), so the planner keeps to the order the query chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Indexed,
    Walk,
}

/// Rows of a time window counted before it counts as wide (see [`list_log_events_plan`]).
const PROBE_CAP: i64 = 15_000;

/// Events purged per transaction: short enough that a request waiting on the write lock
/// (SQLite) or on the rows (PostgreSQL) waits for one small batch, not for the whole purge.
const PURGE_BATCH: i64 = 2_000;

fn log_filter_sql(
    filter: &LogFilter,
    form: Form,
    indexed: Option<&LogFilter>,
    binds: &mut Vec<Bind>,
) -> String {
    if indexed.is_some_and(|i| std::ptr::eq(i, filter)) {
        return log_filter_sql(filter, Form::Indexed, None, binds);
    }
    match filter {
        LogFilter::And(a, b) => format!(
            "({} AND {})",
            log_filter_sql(a, form, indexed, binds),
            log_filter_sql(b, form, indexed, binds)
        ),
        LogFilter::Or(a, b) => format!(
            "({} OR {})",
            log_filter_sql(a, form, indexed, binds),
            log_filter_sql(b, form, indexed, binds)
        ),
        LogFilter::Not(a) => format!("(NOT {})", log_filter_sql(a, form, indexed, binds)),
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
                    FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => {
                        return "1 = 0".to_owned();
                    }
                };
                let test = format!("target_ids LIKE {} ESCAPE '\\'", bind(pattern));
                return if *op == FilterOp::Ne {
                    format!("(NOT {test})")
                } else {
                    test
                };
            }
            // An equality with a non-empty value is the plain column (the same rows as its
            // COALESCE, which no index serves).
            let plain_eq = *op == FilterOp::Eq && !value.is_empty();
            let column = match (field, plain_eq, form) {
                (LogField::EventType, _, Form::Indexed) => "event_type",
                (LogField::EventType, _, Form::Walk) => "(event_type || '')",
                (LogField::Severity, _, _) => "severity",
                (LogField::OutcomeResult, _, _) => "outcome_result",
                (LogField::ActorId, true, Form::Indexed) => "actor_id",
                (LogField::ActorId, true, Form::Walk) => "(actor_id || '')",
                (LogField::ActorId, false, _) => "COALESCE(actor_id, '')",
                (LogField::ActorAlternateId, _, _) => "COALESCE(actor_alternate_id, '')",
                (LogField::TargetId, _, _) => "target_ids",
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
                // The parser refuses them for the System Log.
                FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => "1 = 0".to_owned(),
            }
        }
    }
}

/// The top-level conjuncts of a filter.
fn conjuncts(f: &LogFilter) -> Vec<&LogFilter> {
    match f {
        LogFilter::And(a, b) => {
            let mut all = conjuncts(a);
            all.extend(conjuncts(b));
            all
        }
        other => vec![other],
    }
}

/// An equality an `(attribute, seq)` index serves in `seq` order.
fn keyed_equality(f: &LogFilter) -> bool {
    matches!(
        f,
        LogFilter::Compare { field: LogField::EventType | LogField::ActorId, op: FilterOp::Eq, value }
            if !value.is_empty()
    )
}

const LOG_COLS: &str = "seq, uuid, published_ms, event_type, severity, outcome_result, \
                        actor_id, actor_alternate_id, target_ids, search_text, body";

/// The statements of `list_log_events`: a probe counting the time window's events (up to
/// [`PROBE_CAP`]) through `system_log_published`, then `narrow` below the cap or `wide`.
///
/// Narrow: the window's events are enumerated through that index and only their `seq`s sorted.
/// Wide: in `seq` order, through an `eventType`/`actor.id` equality's `(column, seq)` index if
/// the filter has one, else along the primary key, the window and the rest as filters.
struct LogPlan {
    probe: (String, Vec<Bind>),
    narrow: (String, Vec<Bind>),
    wide: (String, Vec<Bind>),
}

fn list_log_events_plan(query: &LogQuery) -> LogPlan {
    let window = |binds: &mut Vec<Bind>, published: &str| {
        let mut conditions = Vec::new();
        if let Some(since) = query.since_ms {
            binds.push(Bind::Int(since));
            conditions.push(format!("{published} >= ${}", binds.len()));
        }
        if let Some(until) = query.until_ms {
            binds.push(Bind::Int(until));
            conditions.push(format!("{published} < ${}", binds.len()));
        }
        conditions
    };
    let mut binds = Vec::new();
    let mut conditions = window(&mut binds, "published_ms");
    if conditions.is_empty() {
        conditions.push("1 = 1".to_owned());
    }
    let probe = (
        format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM system_log WHERE {} LIMIT {PROBE_CAP}) AS probe",
            conditions.join(" AND ")
        ),
        binds,
    );
    let order = if query.descending { "DESC" } else { "ASC" };
    let cmp = if query.descending { "<" } else { ">" };
    let rest = |binds: &mut Vec<Bind>, conditions: &mut Vec<String>, seq: &str, form, keyed| {
        if let Some(f) = &query.filter {
            conditions.push(log_filter_sql(f, form, keyed, binds));
        }
        for word in &query.keywords {
            binds.push(Bind::Text(format!("%{}%", like_literal(word))));
            conditions.push(format!("search_text LIKE ${} ESCAPE '\\'", binds.len()));
        }
        if let Some(after) = query.after_seq {
            binds.push(Bind::Int(after));
            conditions.push(format!("{seq} {cmp} ${}", binds.len()));
        }
    };

    let mut binds = Vec::new();
    let mut conditions = window(&mut binds, "published_ms");
    rest(&mut binds, &mut conditions, "(seq + 0)", Form::Walk, None);
    binds.push(Bind::Int(i64::from(query.limit)));
    let narrow = format!(
        "SELECT {LOG_COLS} FROM system_log WHERE seq IN (SELECT seq FROM system_log{} \
         ORDER BY (seq + 0) {order} LIMIT ${}) ORDER BY seq {order}",
        where_clause(&conditions),
        binds.len()
    );
    let narrow = (narrow, binds);

    let keyed = query
        .filter
        .as_ref()
        .and_then(|f| conjuncts(f).into_iter().find(|c| keyed_equality(c)));
    let mut binds = Vec::new();
    let mut conditions = window(&mut binds, "(published_ms + 0)");
    rest(&mut binds, &mut conditions, "seq", Form::Walk, keyed);
    binds.push(Bind::Int(i64::from(query.limit)));
    let wide = format!(
        "SELECT {LOG_COLS} FROM system_log{} ORDER BY seq {order} LIMIT ${}",
        where_clause(&conditions),
        binds.len()
    );
    LogPlan {
        probe,
        narrow,
        wide: (wide, binds),
    }
}

/// Every statement `list_log_events` may run for `query` (probe, narrow, wide), for plan tests.
pub(crate) fn log_statements(query: &LogQuery) -> Vec<(String, Vec<Bind>)> {
    let plan = list_log_events_plan(query);
    vec![plan.probe, plan.narrow, plan.wide]
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

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
                let plan = list_log_events_plan(query);
                let (probe, probe_binds) = plan.probe;
                let mut q = sqlx::query_scalar::<_, i64>(&probe).persistent(false);
                for b in probe_binds {
                    q = bind!(q, b);
                }
                let count = q.fetch_one(self.pool()).await.map_err(db_err)?;
                let (sql, binds) = if count < PROBE_CAP { plan.narrow } else { plan.wide };
                // Not prepared for reuse: PostgreSQL then plans with the values at hand.
                let mut q = sqlx::query_as::<_, LogRow>(&sql).persistent(false);
                for b in binds {
                    q = bind!(q, b);
                }
                let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
                Ok(rows.into_iter().map(StoredLogEvent::from).collect())
            }

            async fn purge_log_events(&self, before_ms: i64) -> StoreResult<u64> {
                // In small batches, each its own transaction, with a pause between them: other
                // requests (and the batching writer) get the database between two batches.
                let mut purged = 0;
                loop {
                    let done = sqlx::query(
                        "DELETE FROM system_log WHERE seq IN (SELECT seq FROM system_log \
                         WHERE published_ms < $1 ORDER BY published_ms LIMIT $2)",
                    )
                    .bind(before_ms)
                    .bind(PURGE_BATCH)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                    purged += done.rows_affected();
                    if done.rows_affected() < PURGE_BATCH as u64 {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
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

impl_log_stores!(sqlx::Sqlite);
impl_log_stores!(sqlx::Postgres);
