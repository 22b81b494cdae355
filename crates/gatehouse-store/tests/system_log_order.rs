//! The System Log's order and its targets (migration 0033), on both backends: pages in
//! `(published, seq)` order both ways, cursors old and new, `target.id` answered from
//! `system_log_targets` rows written in the same transaction as their event (also by the
//! batching writer), the migration's backfill writing the same rows, and the purge taking them
//! with their events.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::Store;
use gatehouse_store::test_support::Backend;
use gatehouse_store::{connect_postgres, connect_sqlite};

#[macro_use]
mod common;

use common::{Ctx, run};

type TargetRow = (i64, String, i64);

impl Ctx {
    /// Every `system_log_targets` row, in key order.
    async fn target_rows(&self) -> Result<Vec<TargetRow>> {
        let sql = "SELECT event_seq, target_id, event_published_ms FROM system_log_targets \
                   ORDER BY event_seq, target_id";
        Ok(match self.backend {
            Backend::Sqlite => {
                let s = connect_sqlite(&self.url).await?;
                let rows = sqlx::query_as(sql).fetch_all(s.pool()).await?;
                s.pool().close().await;
                rows
            }
            Backend::Postgres => {
                let s = connect_postgres(&self.url).await?;
                let rows = sqlx::query_as(sql).fetch_all(s.pool()).await?;
                s.pool().close().await;
                rows
            }
        })
    }
}

both_backends!(
    pages_follow_published_then_seq,
    target_ids_are_rows_written_with_their_event,
    the_backfill_writes_what_the_store_writes,
    the_purge_takes_the_targets_along,
);

fn event(uuid: &str, published_ms: i64, event_type: &str, targets: &[&str]) -> LogEventRecord {
    LogEventRecord {
        uuid: uuid.into(),
        published_ms,
        event_type: event_type.into(),
        severity: "INFO".into(),
        outcome_result: "SUCCESS".into(),
        actor_id: Some(format!("actor-{}", published_ms % 2)),
        actor_alternate_id: None,
        target_ids: targets.iter().map(|t| (*t).to_owned()).collect(),
        search_text: "x".into(),
        body: "{}".into(),
    }
}

fn cmp(field: LogField, op: FilterOp, value: &str) -> LogFilter {
    LogFilter::Compare {
        field,
        op,
        value: value.into(),
    }
}

/// Every page of `query`, `limit` at a time, each next page after the last event's cursor.
async fn walk(store: &Arc<dyn Store>, mut query: LogQuery) -> Result<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let page = store.list_log_events(&query).await?;
        out.extend(page.iter().map(|e| e.event.uuid.clone()));
        match page.last() {
            Some(last) if page.len() == query.limit as usize => query.after = Some(last.cursor()),
            _ => return Ok(out),
        }
    }
}

fn query(filter: Option<LogFilter>, descending: bool, limit: u32) -> LogQuery {
    LogQuery {
        filter,
        descending,
        limit,
        ..LogQuery::default()
    }
}

/// Written out of `published` order (as two nodes, or a batch behind another, may commit them).
async fn append_shuffled(store: &Arc<dyn Store>) -> Result<()> {
    store
        .append_log_event(&event("c", 3_000, "t.a", &["u1"]))
        .await?;
    store
        .append_log_events(&[
            event("a", 1_000, "t.b", &["u1", "app1"]),
            event("b1", 2_000, "t.a", &["u2"]),
        ])
        .await?;
    store
        .append_log_event(&event("b2", 2_000, "t.a", &["u1", "u1"]))
        .await?;
    store
        .append_log_event(&event("d", 4_000, "t.b", &[]))
        .await?;
    Ok(())
}

async fn pages_follow_published_then_seq(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    append_shuffled(s).await?;
    let all = ["a", "b1", "b2", "c", "d"];
    for limit in [1, 2, 10] {
        ensure!(
            walk(s, query(None, false, limit)).await? == all,
            "by {limit}"
        );
        let mut rev = all.to_vec();
        rev.reverse();
        ensure!(
            walk(s, query(None, true, limit)).await? == rev,
            "desc by {limit}"
        );
        // Through each keyed index too.
        let t_a = cmp(LogField::EventType, FilterOp::Eq, "t.a");
        ensure!(walk(s, query(Some(t_a), false, limit)).await? == ["b1", "b2", "c"]);
        let actor = cmp(LogField::ActorId, FilterOp::Eq, "actor-0");
        ensure!(walk(s, query(Some(actor), true, limit)).await? == ["d", "c", "b2", "b1", "a"]);
    }
    // The window bounds `published`, whatever the seqs.
    let window = LogQuery {
        since_ms: Some(2_000),
        until_ms: Some(4_000),
        ..query(None, false, 10)
    };
    ensure!(walk(s, window).await? == ["b1", "b2", "c"]);
    // A bare seq (a next link from before 0033) resumes after its event in the new order.
    let listed = s.list_log_events(&query(None, false, 10)).await?;
    let b1 = listed
        .iter()
        .find(|e| e.event.uuid == "b1")
        .map(|e| e.seq)
        .unwrap_or_default();
    let legacy = LogQuery {
        after: Some(LogCursor {
            published_ms: None,
            seq: b1,
        }),
        ..query(None, false, 10)
    };
    let got: Vec<String> = s
        .list_log_events(&legacy)
        .await?
        .into_iter()
        .map(|e| e.event.uuid)
        .collect();
    ensure!(got == ["b2", "c", "d"], "{got:?}");
    // "0", what a polling link with nothing seen yet carries: from the start.
    let zero = LogQuery {
        after: LogCursor::parse("0"),
        ..query(None, false, 10)
    };
    ensure!(s.list_log_events(&zero).await?.len() == 5);
    Ok(())
}

async fn target_ids_are_rows_written_with_their_event(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    append_shuffled(s).await?;
    // Concurrent appends share the batching writer's transactions.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_log_event(&event(&format!("w{i:02}"), 10_000 + i, "t.w", &["u9", "w"]))
                .await
        }));
    }
    for t in tasks {
        t.await??;
    }
    let target = |op, v: &str| Some(cmp(LogField::TargetId, op, v));
    use FilterOp::*;
    let w: Vec<String> = (0..40).map(|i| format!("w{i:02}")).collect();
    let cases: Vec<(Option<LogFilter>, Vec<String>)> = vec![
        (target(Eq, "u1"), vec!["a".into(), "b2".into(), "c".into()]),
        (target(Eq, "u9"), w.clone()),
        (target(Eq, "u"), vec![]),
        (
            Some(LogFilter::And(
                Box::new(cmp(LogField::EventType, Eq, "t.a")),
                Box::new(cmp(LogField::TargetId, Eq, "u1")),
            )),
            vec!["b2".into(), "c".into()],
        ),
        (
            Some(LogFilter::Or(
                Box::new(cmp(LogField::TargetId, Eq, "app1")),
                Box::new(cmp(LogField::TargetId, Eq, "u2")),
            )),
            vec!["a".into(), "b1".into()],
        ),
        (target(Sw, "app"), vec!["a".into()]),
        (target(Co, "pp"), vec!["a".into()]),
        (
            Some(LogFilter::And(
                Box::new(cmp(LogField::EventType, Ne, "t.w")),
                Box::new(cmp(LogField::TargetId, Ne, "u1")),
            )),
            vec!["b1".into(), "d".into()],
        ),
        (
            Some(LogFilter::Not(Box::new(cmp(LogField::TargetId, Pr, "")))),
            vec!["d".into()],
        ),
    ];
    for (filter, want) in cases {
        for limit in [1, 3, 100] {
            let got = walk(s, query(filter.clone(), false, limit)).await?;
            ensure!(got == want, "{filter:?} by {limit}: {got:?}");
        }
        let mut rev = want.clone();
        rev.reverse();
        let got = walk(s, query(filter.clone(), true, 3)).await?;
        ensure!(got == rev, "{filter:?} desc: {got:?}");
    }
    // One row per event and target: b2's repeated u1 once, d's none.
    let rows = ctx.target_rows().await?;
    ensure!(rows.len() == 5 + 80, "{} rows", rows.len());
    // Each row carries its event's `published`.
    let listed = s.list_log_events(&query(None, false, 1000)).await?;
    for (seq, target, published) in &rows {
        let e = listed.iter().find(|e| e.seq == *seq);
        ensure!(
            e.is_some_and(
                |e| e.event.published_ms == *published && e.event.target_ids.contains(target)
            ),
            "row ({seq}, {target}, {published})"
        );
    }
    Ok(())
}

async fn the_backfill_writes_what_the_store_writes(ctx: &Ctx) -> Result<()> {
    append_shuffled(&ctx.store).await?;
    let written = ctx.target_rows().await?;
    ensure!(written.len() == 5);
    let migration = match ctx.backend {
        Backend::Sqlite => include_str!("../migrations/sqlite/0033_system_log_order.sql"),
        Backend::Postgres => include_str!("../migrations/postgres/0033_system_log_order.sql"),
    };
    let backfill = migration
        .split_once("-- Backfill:")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("no backfill marker in 0033"))?;
    ctx.raw(&format!("DELETE FROM system_log_targets; -- {backfill}"))
        .await?;
    let filled = ctx.target_rows().await?;
    ensure!(filled == written, "{filled:?} != {written:?}");
    Ok(())
}

async fn the_purge_takes_the_targets_along(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    append_shuffled(s).await?;
    // Before c (3000): a, b1 and b2 go, with their four target rows.
    let purged = s.purge_log_events(3_000).await?;
    ensure!(purged == 3, "purged {purged}");
    let rows = ctx.target_rows().await?;
    ensure!(
        rows.len() == 1 && rows[0].1 == "u1" && rows[0].2 == 3_000,
        "{rows:?}"
    );
    Ok(())
}
