//! The queries of the cost curve (issue 21) at a size where the plans matter: their results
//! when paged to the last page (on both backends, through both plans of a range search), and
//! their plans (SQLite's `EXPLAIN QUERY PLAN` is deterministic without statistics; on
//! PostgreSQL, with sequential scans disabled, that the named index can serve each query).

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Page, Store};
use gatehouse_store::test_support::{
    Backend, SqlBind, TestDatabase, keyset_statements, log_statement, user_search_statements,
};
use gatehouse_store::{PgStore, SqliteStore, connect_postgres, connect_sqlite};

/// More than the search's probe cap (15 000), so a prefix matching every user takes the wide
/// plan and a narrow one the other.
const USERS: i64 = 16_000;
const EVENTS: i64 = 16_000;
const BASE_MS: i64 = 1_700_000_000_000;

enum Raw {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Raw {
    async fn open(db: &TestDatabase) -> Result<Raw> {
        Ok(match db.backend() {
            Backend::Sqlite => Raw::Sqlite(connect_sqlite(&db.url).await?),
            Backend::Postgres => Raw::Postgres(connect_postgres(&db.url).await?),
        })
    }

    async fn exec(&self, sql: &str) -> Result<()> {
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
    async fn explain(&self, sql: &str, binds: &[SqlBind]) -> Result<String> {
        self.explain_with(sql, binds, "enable_seqscan").await
    }

    /// The plan of `sql` with PostgreSQL's sorts disabled too: a plan that still sorts has no
    /// index giving its order. (At this size the planner may rightly prefer sorting a few
    /// hundred rows; at ten million events the ordered scan is the only cheap plan.)
    async fn explain_ordered(&self, sql: &str, binds: &[SqlBind]) -> Result<String> {
        self.explain_with(sql, binds, "enable_seqscan, enable_sort")
            .await
    }

    async fn explain_with(&self, sql: &str, binds: &[SqlBind], off: &str) -> Result<String> {
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
                for setting in off.split(", ") {
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
                for setting in off.split(", ") {
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
async fn seed(raw: &Raw, backend: Backend) -> Result<()> {
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

fn uid(i: i64) -> String {
    format!("u{i:06}")
}

fn cmp(field: UserField, op: FilterOp, value: &str) -> UserFilter {
    UserFilter::Compare {
        field,
        op,
        value: value.into(),
    }
}

fn or(a: UserFilter, b: UserFilter) -> UserFilter {
    UserFilter::Or(Box::new(a), Box::new(b))
}

/// Every page of a search, `limit` at a time, through the `after` of each last row.
async fn all_pages(
    store: &Arc<dyn Store>,
    filter: Option<&UserFilter>,
    limit: u32,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let after = out.last().cloned();
        let page = store
            .search_users(
                filter,
                Page {
                    after: after.as_deref(),
                    limit,
                },
            )
            .await?;
        let n = page.len();
        out.extend(page.into_iter().map(|u| u.id));
        if n < limit as usize {
            return Ok(out);
        }
    }
}

fn expected(pred: impl Fn(i64) -> bool) -> Vec<String> {
    (1..=USERS).filter(|&i| pred(i)).map(uid).collect()
}

async fn paging_to_the_last_page(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    use FilterOp::*;
    use UserField::*;
    let cases: Vec<(UserFilter, Vec<String>)> = vec![
        // Wide (every user): the primary-key walk.
        (cmp(Email, Sw, "user"), expected(|_| true)),
        // Narrow, in either case: the index enumeration.
        (
            cmp(Email, Sw, "USER123"),
            expected(|i| i.to_string().starts_with("123")),
        ),
        (cmp(LastName, Eq, "last7"), expected(|i| i % 100 == 7)),
        (cmp(Status, Eq, "SUSPENDED"), expected(|i| i % 1000 == 0)),
        (
            cmp(LastUpdated, Gt, &((1000 + 15_990) * 1000 + 500).to_string()),
            expected(|i| i > 15_990),
        ),
        (
            cmp(LastUpdated, Ge, &((1000 + 15_990) * 1000).to_string()),
            expected(|i| i >= 15_990),
        ),
        (
            // `q=an`: Ann and Anton, one user in seven each.
            or(
                or(cmp(FirstName, Sw, "an"), cmp(LastName, Sw, "an")),
                or(cmp(Email, Sw, "an"), cmp(Login, Sw, "an")),
            ),
            expected(|i| i % 7 == 0 || i % 7 == 5),
        ),
        (
            UserFilter::And(
                Box::new(cmp(Email, Sw, "user1")),
                Box::new(cmp(LastName, Eq, "LAST10")),
            ),
            expected(|i| i % 100 == 10 && i.to_string().starts_with('1')),
        ),
    ];
    for (filter, want) in &cases {
        // Short pages too where that stays quick (ties cannot occur: ids are unique).
        let limits: &[u32] = if want.len() < 2_000 {
            &[200, 7]
        } else {
            &[200]
        };
        for &limit in limits {
            let got = all_pages(&store, Some(filter), limit).await?;
            ensure!(
                got.len() == want.len() && &got == want,
                "{filter:?} by {limit}: {} rows, want {}",
                got.len(),
                want.len()
            );
        }
    }
    ensure!(all_pages(&store, None, 1000).await? == expected(|_| true));
    // A group's members, to the last (short) page.
    for (group, want) in [
        ("g1", expected(|_| true)),
        ("g2", expected(|i| (1000 + i) % 3 == 0)),
    ] {
        let mut got: Vec<String> = Vec::new();
        loop {
            let after = got.last().cloned();
            let page = store
                .list_group_members(
                    group,
                    Page {
                        after: after.as_deref(),
                        limit: 999,
                    },
                )
                .await?;
            let n = page.len();
            got.extend(page.into_iter().map(|u| u.id));
            if n < 999 {
                break;
            }
        }
        ensure!(
            got == want,
            "{group}: {} members, want {}",
            got.len(),
            want.len()
        );
    }
    Ok(())
}

async fn log_pages(store: &Arc<dyn Store>, mut query: LogQuery) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    loop {
        let page = store.list_log_events(&query).await?;
        let n = page.len();
        out.extend(page.iter().map(|e| e.seq));
        match page.last() {
            Some(last) if n == query.limit as usize => query.after = Some(last.cursor()),
            _ => return Ok(out),
        }
    }
}

/// (since, until, filter, descending, the expected seqs).
type LogCase = (i64, Option<i64>, Option<LogFilter>, bool, Vec<i64>);

async fn log_paging_and_batched_purge(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    let ms = |i: i64| BASE_MS + i * 1000;
    let event_type = |t: &str| LogFilter::Compare {
        field: LogField::EventType,
        op: FilterOp::Eq,
        value: t.into(),
    };
    // (since, until, filter, descending, expected seqs): seq i is published at ms(i).
    let cases: Vec<LogCase> = vec![
        // Wide windows: the primary key, or the eventType index.
        (ms(0), None, None, false, (1..=EVENTS).collect()),
        (ms(0), None, None, true, (1..=EVENTS).rev().collect()),
        (
            ms(0),
            None,
            Some(event_type("user.session.start")),
            false,
            (1..=EVENTS).filter(|i| i % 10 == 0).collect(),
        ),
        // A narrow window: the published index.
        (ms(100), Some(ms(1100)), None, false, (100..1100).collect()),
        // A target's events (every event's), through its rows.
        (
            ms(15_000),
            None,
            Some(LogFilter::Compare {
                field: LogField::TargetId,
                op: FilterOp::Eq,
                value: "t".into(),
            }),
            true,
            (15_000..=EVENTS).rev().collect(),
        ),
        (
            ms(100),
            Some(ms(1100)),
            Some(LogFilter::Compare {
                field: LogField::ActorId,
                op: FilterOp::Eq,
                value: "a7".into(),
            }),
            true,
            (100..1100).filter(|i| i % 50 == 7).rev().collect(),
        ),
    ];
    for (since, until, filter, descending, want) in cases {
        let got = log_pages(
            &store,
            LogQuery {
                since_ms: Some(since),
                until_ms: until,
                filter: filter.clone(),
                keywords: Vec::new(),
                descending,
                after: None,
                limit: 501,
            },
        )
        .await?;
        ensure!(
            got == want,
            "{filter:?} desc={descending}: {} events",
            got.len()
        );
    }
    // More than one batch goes, and only what is older.
    let purged = store.purge_log_events(ms(5_001)).await?;
    ensure!(purged == 5_000, "purged {purged}");
    let left = log_pages(
        &store,
        LogQuery {
            since_ms: Some(0),
            until_ms: None,
            filter: None,
            keywords: Vec::new(),
            descending: false,
            after: None,
            limit: 1000,
        },
    )
    .await?;
    ensure!(left == (5_001..=EVENTS).collect::<Vec<_>>());
    Ok(())
}

/// Each statement of each listed query, with the index it must use.
async fn plans_use_the_indexes(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    use FilterOp::*;
    use UserField::*;
    let q = or(
        or(cmp(FirstName, Sw, "an"), cmp(LastName, Sw, "an")),
        or(cmp(Email, Sw, "an"), cmp(Login, Sw, "an")),
    );
    // (filter, index of each statement: probe, narrow, wide; or the one).
    let searches: Vec<(UserFilter, Vec<Vec<&str>>)> = vec![
        (
            cmp(Email, Sw, "x"),
            vec![
                vec!["users_email_lower_id"],
                vec!["users_email_lower_id"],
                vec![pick(backend, PK_USERS)],
            ],
        ),
        (
            cmp(LastName, Eq, "x"),
            vec![vec!["users_last_name_lower_id"]],
        ),
        (cmp(Status, Eq, "ACTIVE"), vec![vec!["users_status_id"]]),
        (
            UserFilter::And(
                Box::new(cmp(Email, Sw, "x")),
                Box::new(cmp(LastName, Eq, "x")),
            ),
            vec![vec!["users_last_name_lower_id"]],
        ),
        (
            cmp(LastUpdated, Gt, "1000"),
            vec![
                vec!["users_last_updated_id"],
                vec!["users_last_updated_id"],
                vec![pick(backend, PK_USERS)],
            ],
        ),
        (
            q,
            vec![
                QUICK_SEARCH.to_vec(),
                QUICK_SEARCH.to_vec(),
                vec![pick(backend, PK_USERS)],
            ],
        ),
    ];
    for (filter, indexes) in &searches {
        let statements = user_search_statements(backend, Some(filter), Some("u000100"), 200);
        ensure!(
            statements.len() == indexes.len(),
            "{filter:?}: {statements:?}"
        );
        for ((sql, binds), wanted) in statements.iter().zip(indexes) {
            let plan = raw.explain(sql, binds).await?;
            check(backend, &plan, wanted, sql)?;
        }
    }
    let pk_users = pick(backend, PK_USERS);
    let pk_members = pick(backend, PK_MEMBERS);
    for ((name, sql), wanted) in keyset_statements().into_iter().zip([pk_users, pk_members]) {
        let binds: Vec<SqlBind> = match name {
            "users after" => vec![SqlBind::Text("u000100".into()), SqlBind::Int(200)],
            _ => vec![
                SqlBind::Text("g1".into()),
                SqlBind::Text("u000100".into()),
                SqlBind::Int(200),
            ],
        };
        let plan = raw.explain(sql, &binds).await?;
        check(backend, &plan, &[wanted], sql)?;
    }
    // Each `/api/v1/logs` page: one index, entered at the window (or cursor) and read in the
    // page's order, so nothing is sorted and the scan stops at the limit.
    // With statistics, as a live database has them (without, PostgreSQL guesses a window holds
    // a few rows and would as soon sort them).
    if backend == Backend::Postgres {
        raw.exec("ANALYZE").await?;
    }
    // The window holds every event, so each filter matches many pages (a match set smaller
    // than a page may rightly be fetched and sorted).
    let log_query = |filter: Option<LogFilter>, descending: bool| LogQuery {
        since_ms: Some(BASE_MS),
        until_ms: Some(BASE_MS + (EVENTS + 1) * 1000),
        filter,
        keywords: Vec::new(),
        descending,
        after: None,
        limit: 101,
    };
    let target = |v: &str| LogFilter::Compare {
        field: LogField::TargetId,
        op: FilterOp::Eq,
        value: v.into(),
    };
    let event_type = LogFilter::Compare {
        field: LogField::EventType,
        op: FilterOp::Eq,
        value: "user.session.start".into(),
    };
    let logs: Vec<(Option<LogFilter>, Vec<&str>)> = vec![
        (None, vec!["system_log_published_seq"]),
        (
            Some(event_type.clone()),
            vec!["system_log_event_type_published"],
        ),
        (
            Some(LogFilter::Compare {
                field: LogField::ActorId,
                op: FilterOp::Eq,
                value: "a7".into(),
            }),
            vec!["system_log_actor_published"],
        ),
        (
            Some(LogFilter::And(
                Box::new(event_type.clone()),
                Box::new(target("t")),
            )),
            vec!["system_log_targets_target", pick(backend, PK_LOG)],
        ),
        (
            // Another target test in the filter: the event's own rows, by primary key.
            Some(LogFilter::And(
                Box::new(event_type),
                Box::new(LogFilter::Or(Box::new(target("t")), Box::new(target("u")))),
            )),
            vec![
                "system_log_event_type_published",
                pick(backend, PK_LOG_TARGETS),
            ],
        ),
    ];
    for (filter, wanted) in &logs {
        for descending in [false, true] {
            for cursor in [None, Some((BASE_MS + 8_000_000, 8_000))] {
                let (sql, binds) = log_statement(&log_query(filter.clone(), descending), cursor);
                let plan = raw.explain_ordered(&sql, &binds).await?;
                check(backend, &plan, wanted, &sql)?;
                check_ordered(backend, &plan, &sql)?;
            }
        }
    }
    Ok(())
}

/// `plan` reads its rows in the query's order: no sort at all (SQLite's temporary B-tree,
/// PostgreSQL's Sort), so the scan ends with the page.
fn check_ordered(backend: Backend, plan: &str, sql: &str) -> Result<()> {
    let sorted = match backend {
        Backend::Sqlite => plan.contains("TEMP B-TREE"),
        Backend::Postgres => plan.contains("Sort"),
    };
    ensure!(!sorted, "a sort in the plan of {sql}:\n{plan}");
    Ok(())
}

/// The primary keys' indexes, by backend (SQLite, PostgreSQL).
const PK_USERS: [&str; 2] = ["sqlite_autoindex_users_1", "users_pkey"];
const PK_MEMBERS: [&str; 2] = ["sqlite_autoindex_group_members_1", "group_members_pkey"];
const PK_LOG: [&str; 2] = ["system_log USING INTEGER PRIMARY KEY", "system_log_pkey"];
const PK_LOG_TARGETS: [&str; 2] = [
    "sqlite_autoindex_system_log_targets_1",
    "system_log_targets_pkey",
];

fn pick(backend: Backend, names: [&'static str; 2]) -> &'static str {
    match backend {
        Backend::Sqlite => names[0],
        Backend::Postgres => names[1],
    }
}
const QUICK_SEARCH: [&str; 4] = [
    "users_first_name_lower_id",
    "users_last_name_lower_id",
    "users_email_lower_id",
    "users_login_lower",
];

/// `plan` uses every index of `wanted` and reads no table whole; on SQLite, a statement that
/// pages in key order sorts nothing but ids.
fn check(backend: Backend, plan: &str, wanted: &[&str], sql: &str) -> Result<()> {
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
                let whole = line.starts_with("SCAN ")
                    && !line.contains("USING")
                    && !line.starts_with("SCAN probe");
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

both!(
    paging_to_the_last_page,
    log_paging_and_batched_purge,
    plans_use_the_indexes
);
