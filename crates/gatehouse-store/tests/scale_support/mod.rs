//! Shared by the scale tests (`scale.rs`: results paged to the last page; `scale_plans.rs`: the
//! plans): a database of `USERS` users and `EVENTS` System Log events seeded with SQL alone,
//! raw `EXPLAIN`, and the plan checks.
// Each test file is its own crate and uses only some of this.
#![allow(dead_code)]

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_store::test_support::{Backend, SqlBind, TestDatabase};
use gatehouse_store::{PgStore, SqliteStore, connect_postgres, connect_sqlite};

/// More than the search's probe cap (15 000), so a prefix matching every user takes the wide
/// plan and a narrow one the other.
pub const USERS: i64 = 16_000;
pub const EVENTS: i64 = 16_000;
pub const BASE_MS: i64 = 1_700_000_000_000;

pub enum Raw {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Raw {
    pub async fn open(db: &TestDatabase) -> Result<Raw> {
        Ok(match db.backend() {
            Backend::Sqlite => Raw::Sqlite(connect_sqlite(&db.url).await?),
            Backend::Postgres => Raw::Postgres(connect_postgres(&db.url).await?),
        })
    }

    pub async fn exec(&self, sql: &str) -> Result<()> {
        match self {
            Raw::Sqlite(s) => {
                sqlx::raw_sql(sql).execute(s.pool()).await?;
            }
            Raw::Postgres(s) => {
                sqlx::raw_sql(sql).execute(s.pool()).await?;
            }
        }
        Ok(())
    }

    /// The plan of `sql`, one line per node.
    pub async fn explain(&self, sql: &str, binds: &[SqlBind]) -> Result<String> {
        self.explain_with(sql, binds, "enable_seqscan").await
    }

    /// The plan of `sql` with PostgreSQL's sorts disabled too: a plan that still sorts has no
    /// index giving its order. (At this size the planner may rightly prefer sorting a few
    /// hundred rows; at ten million events the ordered scan is the only cheap plan.)
    pub async fn explain_ordered(&self, sql: &str, binds: &[SqlBind]) -> Result<String> {
        self.explain_with(sql, binds, "enable_seqscan, enable_sort")
            .await
    }

    /// `off`: the planner settings to disable, comma-separated (none if empty).
    pub async fn explain_with(&self, sql: &str, binds: &[SqlBind], off: &str) -> Result<String> {
        Ok(match self {
            Raw::Sqlite(s) => {
                let text = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&text);
                for b in binds {
                    q = match b {
                        SqlBind::Text(t) => q.bind(t.clone()),
                        SqlBind::Int(i) => q.bind(*i),
                    };
                }
                let rows = q.fetch_all(s.pool()).await?;
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
            Raw::Postgres(s) => {
                let mut conn = s.pool().acquire().await?;
                for setting in off.split(", ").filter(|s| !s.is_empty()) {
                    sqlx::query(&format!("SET {setting} = off"))
                        .execute(&mut *conn)
                        .await?;
                }
                let text = format!("EXPLAIN {sql}");
                let mut q = sqlx::query_scalar::<_, String>(&text);
                for b in binds {
                    q = match b {
                        SqlBind::Text(t) => q.bind(t.clone()),
                        SqlBind::Int(i) => q.bind(*i),
                    };
                }
                let rows = q.fetch_all(&mut *conn).await?;
                for setting in off.split(", ").filter(|s| !s.is_empty()) {
                    sqlx::query(&format!("RESET {setting}"))
                        .execute(&mut *conn)
                        .await?;
                }
                rows.join("\n")
            }
        })
    }
}

/// `USERS` users `u000001`…: login and email `user<i>@example.com` (every other email in
/// capitals), first names from seven, last names `Last<i % 100>`, every thousandth SUSPENDED,
/// `last_updated = 1000 + i`; all in group `g1`, every third in `g2`.
pub async fn seed(raw: &Raw, backend: Backend) -> Result<()> {
    let (id, num) = match backend {
        Backend::Sqlite => ("printf('u%06d', i)", "CAST(i AS TEXT)"),
        Backend::Postgres => ("'u' || lpad(i::text, 6, '0')", "i::text"),
    };
    raw.exec(&format!(
        "INSERT INTO groups (id, name, description, group_type, created, last_updated) \
         VALUES ('g1', 'All', '', 'OKTA_GROUP', 1, 1), ('g2', 'Thirds', '', 'OKTA_GROUP', 1, 1); \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {USERS}) \
         INSERT INTO users (id, status, login, login_lower, email, first_name, last_name, \
           created, last_updated) \
         SELECT {id}, CASE WHEN i % 1000 = 0 THEN 'SUSPENDED' ELSE 'ACTIVE' END, \
           'user' || {num} || '@example.com', 'user' || {num} || '@example.com', \
           CASE WHEN i % 2 = 0 THEN 'USER' || {num} || '@EXAMPLE.COM' \
                ELSE 'user' || {num} || '@example.com' END, \
           CASE i % 7 WHEN 0 THEN 'Ann' WHEN 1 THEN 'Bob' WHEN 2 THEN 'Cara' WHEN 3 THEN 'Dan' \
                WHEN 4 THEN 'Eve' WHEN 5 THEN 'Anton' ELSE 'Zed' END, \
           'Last' || {last}, 1, 1000 + i FROM n; \
         INSERT INTO group_members (group_id, user_id) SELECT 'g1', id FROM users; \
         INSERT INTO group_members (group_id, user_id) \
           SELECT 'g2', id FROM users WHERE last_updated % 3 = 0; \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EVENTS}) \
         INSERT INTO system_log (uuid, published_ms, event_type, severity, outcome_result, \
           actor_id, actor_alternate_id, target_ids, search_text, body) \
         SELECT 'e' || {num}, {BASE_MS} + i * 1000, \
           CASE WHEN i % 10 = 0 THEN 'user.session.start' ELSE 'app.oauth2.token.grant' END, \
           'INFO', 'SUCCESS', 'a' || {actor}, NULL, ' t ', 'x', '{{}}' FROM n; \
         INSERT INTO system_log_targets (event_seq, target_id, event_published_ms) \
           SELECT seq, 't', published_ms FROM system_log",
        last = match backend {
            Backend::Sqlite => "(i % 100)",
            Backend::Postgres => "(i % 100)::text",
        },
        actor = match backend {
            Backend::Sqlite => "(i % 50)",
            Backend::Postgres => "(i % 50)::text",
        },
    ))
    .await
}

pub fn uid(i: i64) -> String {
    format!("u{i:06}")
}

pub fn cmp(field: UserField, op: FilterOp, value: &str) -> UserFilter {
    UserFilter::Compare {
        field,
        op,
        value: value.into(),
    }
}

pub fn or(a: UserFilter, b: UserFilter) -> UserFilter {
    UserFilter::Or(Box::new(a), Box::new(b))
}

pub fn expected(pred: impl Fn(i64) -> bool) -> Vec<String> {
    (1..=USERS).filter(|&i| pred(i)).map(uid).collect()
}
/// `plan` reads its rows in the query's order: no sort at all (SQLite's temporary B-tree,
/// PostgreSQL's Sort), so the scan ends with the page.
pub fn check_ordered(backend: Backend, plan: &str, sql: &str) -> Result<()> {
    let sorted = match backend {
        Backend::Sqlite => plan.contains("TEMP B-TREE"),
        Backend::Postgres => plan.contains("Sort"),
    };
    ensure!(!sorted, "a sort in the plan of {sql}:\n{plan}");
    Ok(())
}

/// The primary keys' indexes, by backend (SQLite, PostgreSQL).
pub const PK_USERS: [&str; 2] = ["sqlite_autoindex_users_1", "users_pkey"];
pub const PK_MEMBERS: [&str; 2] = ["sqlite_autoindex_group_members_1", "group_members_pkey"];
pub const PK_LOG: [&str; 2] = ["system_log USING INTEGER PRIMARY KEY", "system_log_pkey"];
pub const PK_LOG_TARGETS: [&str; 2] = [
    "sqlite_autoindex_system_log_targets_1",
    "system_log_targets_pkey",
];

pub fn pick(backend: Backend, names: [&'static str; 2]) -> &'static str {
    match backend {
        Backend::Sqlite => names[0],
        Backend::Postgres => names[1],
    }
}
pub const QUICK_SEARCH: [&str; 4] = [
    "users_first_name_lower_id",
    "users_last_name_lower_id",
    "users_email_lower_id",
    "users_login_lower",
];

/// `plan` uses every index of `wanted` and reads no table whole; on SQLite, a statement that
/// pages in key order sorts nothing but ids.
pub fn check(backend: Backend, plan: &str, wanted: &[&str], sql: &str) -> Result<()> {
    for index in wanted {
        ensure!(
            plan.contains(index),
            "no {index} in the plan of {sql}:\n{plan}"
        );
    }
    match backend {
        Backend::Sqlite => {
            for line in plan.lines() {
                let line = line.trim();
                // A subquery's rows (the probe, `q=`'s per-field hits and their merge) are
                // no table.
                let name = line.strip_prefix("SCAN ").unwrap_or("");
                let subquery = ["probe", "hits", "m"].contains(&name)
                    || name
                        .strip_prefix('b')
                        .is_some_and(|n| n.parse::<u8>().is_ok());
                let whole = line.starts_with("SCAN ") && !line.contains("USING") && !subquery;
                ensure!(!whole, "a table scan in the plan of {sql}:\n{plan}");
            }
        }
        Backend::Postgres => {
            ensure!(
                !plan.contains("Seq Scan"),
                "a sequential scan for {sql}:\n{plan}"
            );
        }
    }
    Ok(())
}
/// One `#[tokio::test]` per backend for each named test.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Postgres).await
                }
            )+
        }
    };
}
