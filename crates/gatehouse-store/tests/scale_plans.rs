//! The plans of the cost curve's queries (issue 21) on the scale tests' database: SQLite's
//! `EXPLAIN QUERY PLAN` is deterministic without statistics; on PostgreSQL, with sequential
//! scans disabled, that the named index can serve each query. Results: `scale.rs`.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_store::test_support::{
    Backend, PURGE_REFRESH_TOKEN_CHUNK, REFRESH_TOKEN_CHUNK_END, SqlBind, TestDatabase,
    grant_chunk_end_statement, keyset_statements, log_statement, purge_grant_chunk_statement,
    quick_search_statement, user_search_statements,
};

#[macro_use]
mod scale_support;

use scale_support::*;

both!(
    user_plans_use_the_indexes,
    log_plans_use_the_indexes,
    grant_purge_plans_use_the_indexes
);

/// Each statement of each listed user query, with the index it must use.
async fn user_plans_use_the_indexes(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
    use FilterOp::*;
    use UserField::*;
    // `search=` with an OR of prefixes.
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
    // The keyset pages with statistics, as a server's tables have them: without, PostgreSQL's
    // guess of a just-filled `group_members` depends on whether autovacuum got to it yet (the
    // other tests of this file fill theirs at the same time), and a guess of one row picked
    // `group_members_user_id_idx` for a group's page in some runs.
    if backend == Backend::Postgres {
        raw.exec("ANALYZE").await?;
    }
    let pk_users = pick(backend, PK_USERS);
    let pk_members = pick(backend, PK_MEMBERS);
    for ((name, sql), wanted) in keyset_statements(backend)
        .into_iter()
        .zip([pk_users, pk_members])
    {
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
    if backend == Backend::Postgres {
        members_page_probes_users(&raw, backend).await?;
    }
    // `q=`: each field's index read in its order, straight into the field's limit (no sort
    // before it), and the rows by primary key. Only the merged hits (at most 4 × limit) are
    // sorted. With statistics (above): without, PostgreSQL guesses a range holds a few rows
    // and would as soon sort them.
    let active = cmp(Status, Eq, "ACTIVE");
    for filter in [None, Some(&active)] {
        let (sql, binds) = quick_search_statement(backend, "an", filter, 200);
        let plan = raw.explain_ordered(&sql, &binds).await?;
        let mut wanted = QUICK_SEARCH.to_vec();
        wanted.push(pk_users);
        check(backend, &plan, &wanted, &sql)?;
        check_quick_search_order(backend, &plan, &sql)?;
    }
    Ok(())
}

/// A middle page of a big group, with statistics and sequential scans allowed, as the server
/// plans it: the page's ids come off `group_members_pkey` and the users are probed by id in
/// `users_pkey`. (Joined before the limit, PostgreSQL merge-joined the group's range with all
/// of `users_pkey` from its first entry: at 1M users, 2 s a page.)
async fn members_page_probes_users(raw: &Raw, backend: Backend) -> Result<()> {
    let sql = keyset_statements(backend)
        .into_iter()
        .find(|(name, _)| *name == "group members after")
        .map(|(_, sql)| sql)
        .unwrap_or_default();
    let binds = [
        SqlBind::Text("g1".into()),
        SqlBind::Text(uid(USERS / 2)),
        SqlBind::Int(1001),
    ];
    let plan = raw.explain_with(sql, &binds, "").await?;
    ensure!(
        plan.contains("Index Cond: (id = ") && !plan.contains("Merge Join"),
        "a middle page of g1 does not probe users by id:\n{plan}"
    );
    Ok(())
}

/// Each field of a `q=` plan is read in its index's order up to the limit: on SQLite, the
/// only temporary B-trees are the merge's (GROUP BY, its ORDER BY, the rows' ORDER BY); on
/// PostgreSQL each field's index scan feeds its Limit directly.
fn check_quick_search_order(backend: Backend, plan: &str, sql: &str) -> Result<()> {
    match backend {
        Backend::Sqlite => {
            let sorts = plan.matches("TEMP B-TREE").count();
            ensure!(sorts <= 3, "{sorts} sorts in the plan of {sql}:\n{plan}");
        }
        Backend::Postgres => {
            let lines: Vec<&str> = plan.lines().collect();
            for index in QUICK_SEARCH {
                let fed = lines.windows(2).any(|w| {
                    w[0].contains("Limit")
                        && (w[1].contains(&format!("Index Scan using {index}"))
                            || w[1].contains(&format!("Index Only Scan using {index}")))
                });
                ensure!(
                    fed,
                    "{index} does not feed a Limit in the plan of {sql}:\n{plan}"
                );
            }
        }
    }
    Ok(())
}

/// Each `/api/v1/logs` statement, with the index it must use, read in the page's order.
async fn log_plans_use_the_indexes(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    seed(&raw, backend).await?;
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

/// The expiry purge's walk over the grants (`sql/purge.rs`): each chunk is a range of the
/// grants' primary key, and each grant's "does anything still refer to it" an index probe. At a
/// million grants a scan here held SQLite's write lock for half a second, and without
/// `auth_codes_grant_id_idx` (0036) every old grant scanned the live codes.
async fn grant_purge_plans_use_the_indexes(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let raw = Raw::open(&db).await?;
    // SQLite walks the grants along the rowid, the order their rows are stored in (along the
    // random `id`, each row was a page of its own); PostgreSQL along `id`.
    let pk_grants = pick(
        backend,
        ["INTEGER PRIMARY KEY (rowid>? AND rowid<?)", "grants_pkey"],
    );
    let (first, last) = match backend {
        Backend::Sqlite => (SqlBind::Int(0), SqlBind::Int(1000)),
        Backend::Postgres => (SqlBind::Text("oag0".into()), SqlBind::Text("oag9".into())),
    };
    let chunk_end = grant_chunk_end_statement(backend);
    let end = raw
        .explain(chunk_end, &[first.clone(), SqlBind::Int(1000)])
        .await?;
    let walk = pick(backend, ["INTEGER PRIMARY KEY (rowid>?)", "grants_pkey"]);
    check(backend, &end, &[walk], chunk_end)?;
    let binds = [SqlBind::Int(2_000_000_000), first, last];
    let sql = purge_grant_chunk_statement(backend);
    let chunk = raw.explain(sql, &binds).await?;
    check(
        backend,
        &chunk,
        &[
            pk_grants,
            "auth_codes_grant_id_idx",
            "refresh_tokens_grant_id_idx",
            "access_tokens_grant_id_idx",
        ],
        sql,
    )?;
    // PostgreSQL walks the refresh tokens the same way (no index on their expiry there).
    if backend == Backend::Postgres {
        let end = raw
            .explain(
                REFRESH_TOKEN_CHUNK_END,
                &[SqlBind::Text("a".into()), SqlBind::Int(1000)],
            )
            .await?;
        check(
            backend,
            &end,
            &["refresh_tokens_pkey"],
            REFRESH_TOKEN_CHUNK_END,
        )?;
        let chunk = raw
            .explain(
                PURGE_REFRESH_TOKEN_CHUNK,
                &[
                    SqlBind::Int(2_000_000_000),
                    SqlBind::Text("a".into()),
                    SqlBind::Text("b".into()),
                ],
            )
            .await?;
        check(
            backend,
            &chunk,
            &["refresh_tokens_pkey"],
            PURGE_REFRESH_TOKEN_CHUNK,
        )?;
    }
    Ok(())
}
