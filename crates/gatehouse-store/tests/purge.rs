//! The expiry purge's spent grants (`sql/purge.rs`), on both backends: a grant goes in the pass
//! that deletes its last code or token, a grant with a live one never goes, and the walk over
//! every grant, which catches the spent grants the passes miss, runs at most once a day, also
//! across a restart.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_store::test_support::{
    Backend, GRANT_WALK_EVERY, GRANT_WALK_META, expired_with_grant_statements,
    probe_grants_statement,
};
use gatehouse_store::{connect, connect_postgres, connect_sqlite};

#[macro_use]
mod common;

use common::{Ctx, access_token as access, run};

both_backends!(
    a_grant_goes_in_the_pass_that_expires_its_last_token,
    a_grant_with_a_live_code_or_token_is_never_deleted,
    the_walk_over_every_grant_runs_at_most_once_a_day,
    a_spent_grant_the_passes_miss_goes_with_the_daily_walk,
    many_expired_tokens_go_in_batches_with_their_grants,
    the_probe_and_the_batches_use_the_indexes,
);

/// Past the fixtures' grants' first day (they are created at 1 000).
const T0: Timestamp = 200_000;
const HOUR: Timestamp = 3_600;

fn code(hash: &str, grant_id: &str, expires_at: Timestamp) -> AuthCode {
    AuthCode {
        expires_at,
        ..common::auth_code(hash, grant_id)
    }
}

fn refresh(hash: &str, grant_id: &str, expires_at: Timestamp) -> RefreshToken {
    RefreshToken {
        expires_at,
        ..common::refresh_token(hash, grant_id)
    }
}

fn young(id: &str, created: Timestamp) -> Grant {
    Grant {
        created,
        ..common::grant(id)
    }
}

async fn exists(ctx: &Ctx, id: &str) -> Result<bool> {
    Ok(ctx.store.find_grant(id).await?.is_some())
}

async fn walked_at(ctx: &Ctx) -> Result<Option<String>> {
    Ok(ctx.store.get_meta(GRANT_WALK_META).await?)
}

async fn a_grant_goes_in_the_pass_that_expires_its_last_token(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    // The first pass walks every grant (none has been walked yet); the next ones do not.
    assert_eq!(s.purge_expired(T0).await?, 0);
    assert_eq!(walked_at(ctx).await?, Some(T0.to_string()));
    for g in ["g-code", "g-refresh", "g-access", "g-all", "g-young"] {
        let grant = if g == "g-young" {
            young(g, T0)
        } else {
            common::grant(g)
        };
        s.create_grant(&grant).await?;
    }
    let due = T0 + HOUR;
    s.create_code(&code("c", "g-code", due)).await?;
    s.create_refresh_token(&refresh("r", "g-refresh", due))
        .await?;
    s.record_access_token(&access("j", "g-access", due)).await?;
    s.create_code(&code("c-all", "g-all", due - 10)).await?;
    s.create_refresh_token(&refresh("r-all", "g-all", due - 5))
        .await?;
    s.record_access_token(&access("j-all", "g-all", due))
        .await?;
    s.record_access_token(&access("j-young", "g-young", due))
        .await?;

    // Before they expire, nothing goes.
    assert_eq!(s.purge_expired(due - 20).await?, 0);
    // One pass: seven codes and tokens, then four grants. The grant under a day old is left
    // to the walk, as the walk would leave it.
    assert_eq!(s.purge_expired(due).await?, 7 + 4);
    for gone in ["g-code", "g-refresh", "g-access", "g-all"] {
        ensure!(!exists(ctx, gone).await?, "{gone} is still there");
    }
    ensure!(exists(ctx, "g-young").await?, "the young grant went");
    assert_eq!(walked_at(ctx).await?, Some(T0.to_string()));
    Ok(())
}

async fn a_grant_with_a_live_code_or_token_is_never_deleted(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let last = T0 + 3 * GRANT_WALK_EVERY;
    let live = last + HOUR;
    for g in ["g-code", "g-refresh", "g-access"] {
        s.create_grant(&common::grant(g)).await?;
    }
    // Each grant also has codes and tokens of every kind that expire along the way, so every
    // pass probes it.
    for (i, at) in [T0, T0 + HOUR, T0 + GRANT_WALK_EVERY, last]
        .into_iter()
        .enumerate()
    {
        for g in ["g-code", "g-refresh", "g-access"] {
            s.create_code(&code(&format!("c{i}-{g}"), g, at)).await?;
            s.create_refresh_token(&refresh(&format!("r{i}-{g}"), g, at))
                .await?;
            s.record_access_token(&access(&format!("j{i}-{g}"), g, at))
                .await?;
        }
    }
    s.create_code(&code("c-live", "g-code", live)).await?;
    s.create_refresh_token(&refresh("r-live", "g-refresh", live))
        .await?;
    s.record_access_token(&access("j-live", "g-access", live))
        .await?;

    // A walk, passes within its day, the next day's walk, and a pass after it.
    for now in [T0, T0 + HOUR, T0 + GRANT_WALK_EVERY, last] {
        assert_eq!(s.purge_expired(now).await?, 9, "pass at {now}");
        for g in ["g-code", "g-refresh", "g-access"] {
            ensure!(exists(ctx, g).await?, "{g} went at {now}");
        }
    }
    assert_eq!(walked_at(ctx).await?, Some(last.to_string()));
    // Once the last one expires, the grants go.
    assert_eq!(s.purge_expired(live).await?, 3 + 3);
    Ok(())
}

async fn the_walk_over_every_grant_runs_at_most_once_a_day(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    assert_eq!(s.purge_expired(T0).await?, 0);
    assert_eq!(walked_at(ctx).await?, Some(T0.to_string()));
    // A grant no code or token ever referred to: only the walk finds it.
    s.create_grant(&common::grant("g-dead")).await?;
    assert_eq!(s.purge_expired(T0 + HOUR).await?, 0);
    ensure!(exists(ctx, "g-dead").await?, "walked twice in an hour");
    // Nor after a restart: when the walk last ran is in the database.
    let restarted = connect(&ctx.url).await?;
    assert_eq!(restarted.purge_expired(T0 + GRANT_WALK_EVERY - 1).await?, 0);
    ensure!(exists(ctx, "g-dead").await?, "walked again after a restart");
    assert_eq!(walked_at(ctx).await?, Some(T0.to_string()));
    // A day after the last walk, the next one.
    let next = T0 + GRANT_WALK_EVERY;
    assert_eq!(restarted.purge_expired(next).await?, 1);
    ensure!(!exists(ctx, "g-dead").await?, "the daily walk left it");
    assert_eq!(walked_at(ctx).await?, Some(next.to_string()));
    // A clock that went back walks again rather than never.
    s.create_grant(&common::grant("g-dead-2")).await?;
    assert_eq!(s.purge_expired(next - HOUR).await?, 1);
    assert_eq!(walked_at(ctx).await?, Some((next - HOUR).to_string()));
    Ok(())
}

async fn a_spent_grant_the_passes_miss_goes_with_the_daily_walk(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    assert_eq!(s.purge_expired(T0).await?, 0);
    // Its only token expires while it is under a day old: the pass that deletes the token
    // leaves it.
    s.create_grant(&young("g-young", T0)).await?;
    s.record_access_token(&access("j", "g-young", T0 + HOUR))
        .await?;
    // Its token is deleted behind the store's back (or by a pass that stopped before the
    // grants' probe).
    s.create_grant(&common::grant("g-gone")).await?;
    s.create_refresh_token(&refresh("r", "g-gone", T0 + 2 * HOUR))
        .await?;
    ctx.raw("DELETE FROM refresh_tokens WHERE token_hash = 'r'")
        .await?;
    assert_eq!(s.purge_expired(T0 + HOUR).await?, 1);
    assert_eq!(s.purge_expired(T0 + 2 * HOUR).await?, 0);
    ensure!(exists(ctx, "g-young").await?, "young grant went");
    ensure!(exists(ctx, "g-gone").await?, "walked within the day");
    assert_eq!(s.purge_expired(T0 + GRANT_WALK_EVERY).await?, 2);
    ensure!(!exists(ctx, "g-young").await?, "the walk left g-young");
    ensure!(!exists(ctx, "g-gone").await?, "the walk left g-gone");
    Ok(())
}

async fn many_expired_tokens_go_in_batches_with_their_grants(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    assert_eq!(s.purge_expired(T0).await?, 0);
    s.create_grant(&common::grant("g-many")).await?;
    s.create_grant(&common::grant("g-kept")).await?;
    // More expired tokens than one batch deletes, all under one grant, and one live token of
    // another grant among them.
    ctx.raw(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12001) \
         INSERT INTO access_tokens (jti, grant_id, client_id, expires_at) \
         SELECT 'j' || i, 'g-many', 'client', {} FROM n",
        T0 + HOUR
    ))
    .await?;
    s.record_access_token(&access("j-kept", "g-kept", T0 + 2 * HOUR))
        .await?;
    assert_eq!(s.purge_expired(T0 + HOUR).await?, 12_001 + 1);
    ensure!(!exists(ctx, "g-many").await?, "g-many is still there");
    ensure!(exists(ctx, "g-kept").await?, "g-kept went");
    assert_eq!(s.purge_expired(T0 + 2 * HOUR).await?, 2);
    Ok(())
}

/// The plan of `sql` with `binds` (PostgreSQL: with sequential scans disabled, so that the
/// plan shows whether an index can serve it; the tables are nearly empty).
async fn plan(ctx: &Ctx, sql: &str, binds: (i64, Option<&str>)) -> Result<String> {
    let (now, ids) = binds;
    Ok(match ctx.backend {
        Backend::Sqlite => {
            let s = connect_sqlite(&ctx.url).await?;
            let text = format!("EXPLAIN QUERY PLAN {sql}");
            let q = sqlx::query_as::<_, (i64, i64, i64, String)>(&text).bind(now);
            let q = match ids {
                Some(ids) => q.bind(ids.to_string()),
                None => q.bind(5000_i64),
            };
            let rows = q.fetch_all(s.pool()).await?;
            s.pool().close().await;
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
        }
        Backend::Postgres => {
            let s = connect_postgres(&ctx.url).await?;
            let mut tx = s.pool().begin().await?;
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await?;
            let text = format!("EXPLAIN {sql}");
            let q = sqlx::query_scalar::<_, String>(&text).bind(now);
            let q = match ids {
                Some(ids) => q.bind(serde_json::from_str::<Vec<String>>(ids)?),
                None => q.bind(5000_i64),
            };
            let rows = q.fetch_all(&mut *tx).await?;
            tx.rollback().await?;
            s.pool().close().await;
            rows.join("\n")
        }
    })
}

/// Each probed grant is a primary-key lookup and three index probes; each batch of expired
/// rows is found through the `expires_at` index. (Scans here would make a pass cost the
/// number of grants or tokens again.)
async fn the_probe_and_the_batches_use_the_indexes(ctx: &Ctx) -> Result<()> {
    let sql = probe_grants_statement(ctx.backend);
    let probe = plan(ctx, sql, (T0, Some(r#"["a","b"]"#))).await?;
    let pk = match ctx.backend {
        Backend::Sqlite => "sqlite_autoindex_grants_1",
        Backend::Postgres => "grants_pkey",
    };
    for index in [
        pk,
        "auth_codes_grant_id_idx",
        "refresh_tokens_grant_id_idx",
        "access_tokens_grant_id_idx",
    ] {
        ensure!(
            probe.contains(index),
            "no {index} in the plan of {sql}:\n{probe}"
        );
    }
    for sql in expired_with_grant_statements(ctx.backend) {
        let batch = plan(ctx, sql, (T0, None)).await?;
        ensure!(
            batch.contains("_expires_at_idx"),
            "no expiry index in the plan of {sql}:\n{batch}"
        );
        let scans = batch
            .lines()
            .any(|l| (l.contains("SCAN ") && !l.contains("INDEX")) || l.contains("Seq Scan"));
        ensure!(!scans, "a scan in the plan of {sql}:\n{batch}");
    }
    Ok(())
}
