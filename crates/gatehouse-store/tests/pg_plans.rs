//! PostgreSQL plans each statement of the hot paths once per connection: the batched reads of
//! every protected request (access token, token with user, throttle counters, introspection's
//! read) and the group commit's insert statement. Planning them anew on every execution (a
//! custom plan, which PostgreSQL keeps choosing while the generic plan looks costlier) cost the
//! backend several times their execution. So are the code exchange's and the refresh's reads
//! with the throttle's counters. `pg_prepared_statements` counts each statement's
//! plans of either kind.

mod common;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{AccessTokenKey, GrantKey, GrantLookup, Store};
use gatehouse_store::test_support::{Backend, TestDatabase};
use gatehouse_store::{PoolSize, connect_postgres_with};

/// Executions of each statement: PostgreSQL plans the first five with their values, then
/// settles on the generic plan if it is as cheap.
const RUNS: usize = 9;

fn event(n: usize) -> LogEventRecord {
    LogEventRecord {
        uuid: format!("event-{n}"),
        published_ms: 1_700_000_000_000 + n as i64,
        event_type: "app.oauth2.as.token.grant.access_token".into(),
        severity: "INFO".into(),
        outcome_result: "SUCCESS".into(),
        actor_id: Some("client".into()),
        actor_alternate_id: None,
        target_ids: vec![format!("AT.{n}"), "client".into()],
        search_text: "token".into(),
        body: "{}".into(),
    }
}

#[tokio::test]
async fn hot_statements_are_planned_once_per_connection() -> Result<()> {
    let db = TestDatabase::new(Backend::Postgres).await?;
    // One connection, so every execution is on it.
    let store = connect_postgres_with(
        &db.url,
        PoolSize {
            max_connections: Some(1),
        },
    )
    .await?;
    let s: &dyn Store = &store;
    s.create_user(&common::user("u1")).await?;
    let window = 1_700_000_100;
    s.hit_rate_limit("fail:a", window).await?;
    s.create_code(&common::auth_code("c1", "g1")).await?;
    s.create_grant(&common::grant("g1")).await?;
    s.create_refresh_token(&common::refresh_token("r1", "g1"))
        .await?;
    for n in 0..RUNS {
        let jti = format!("AT.{n}");
        s.record_access_token(&AccessTokenRecord {
            jti: jti.clone(),
            grant_id: "g".into(),
            client_id: "client".into(),
            expires_at: 9_000,
            revoked_at: None,
        })
        .await?;
        s.append_log_events(&[event(n)]).await?;
        let found = s.find_access_token(&jti).await?;
        ensure!(found.is_some_and(|t| t.jti == jti), "{jti} not found");
        let (token, u) = s.find_access_token_and_user(&jti, "u1").await?;
        ensure!(token.is_some() && u.is_some_and(|u| u.id == "u1"), "{jti}");
        let hits = s
            .rate_limit_hits_of(&["fail:a", "fail:none"], window)
            .await?;
        ensure!(hits == [1, 0], "{hits:?}");
        let read = s
            .peek_rate_limits_with_access_token(
                &["fail:a", "fail:none"],
                window,
                Some(AccessTokenKey {
                    jti: &jti,
                    user_id: Some("u1"),
                }),
            )
            .await?;
        ensure!(read.hits == [1, 0], "{:?}", read.hits);
        ensure!(
            matches!(&read.token, Some((Some(t), Some(u))) if t.jti == jti && u.id == "u1"),
            "{:?}",
            read.token
        );
    }
    // The code exchange's and the refresh's read with the throttle's counters.
    for _ in 0..RUNS {
        for key in [GrantKey::Code("c1"), GrantKey::Refresh("r1")] {
            let (hits, found) = s
                .peek_rate_limits_with_grant(&["fail:a", "fail:none"], window, key)
                .await?;
            ensure!(hits == [1, 0], "{hits:?}");
            ensure!(
                matches!(
                    &found,
                    GrantLookup::Code {
                        found: Some((_, Some(_))),
                        ..
                    } | GrantLookup::Refresh { found: Some(_), .. }
                ),
                "{found:?}"
            );
        }
    }
    let with_grant: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%FROM (SELECT 1 AS one) k%' \
         AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement",
    )
    .fetch_all(store.pool())
    .await?;
    ensure!(with_grant.len() == 2, "{with_grant:#?}");
    for (statement, generic, custom) in &with_grant {
        ensure!(
            *custom <= 5 && *generic >= 1,
            "planned anew each time ({custom} custom plans, {generic} generic): {statement}"
        );
    }
    let plans: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%FROM generate_subscripts%' \
         AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement",
    )
    .fetch_all(store.pool())
    .await?;
    // Four reads and the insert statement.
    ensure!(plans.len() == 5, "{plans:#?}");
    for (statement, generic, custom) in &plans {
        ensure!(
            *custom <= 5 && *generic >= 1,
            "planned anew each time ({custom} custom plans, {generic} generic): {statement}"
        );
    }
    drop(store);
    drop(db);
    Ok(())
}
