//! Fault injection: what the batching writer does when a commit fails (a full disk, an I/O
//! error). A write is acknowledged only if it was committed, and the writer recovers once the
//! fault clears.

use std::time::Duration;

use anyhow::{Result, ensure};
use gatehouse_core::domain::{LogEventRecord, LogQuery};
use gatehouse_core::store::Store;
use gatehouse_store::test_support::{Backend, TestDatabase};
use gatehouse_store::{connect_postgres, connect_sqlite};

/// An event big enough to need pages of its own (so a full database refuses it).
fn event(uuid: &str, event_type: &str) -> LogEventRecord {
    LogEventRecord {
        uuid: uuid.into(),
        published_ms: 1_000,
        event_type: event_type.into(),
        severity: "INFO".into(),
        outcome_result: "SUCCESS".into(),
        actor_id: None,
        actor_alternate_id: None,
        target_ids: vec![],
        search_text: String::new(),
        body: "x".repeat(20_000),
    }
}

/// Every stored event's uuid.
async fn stored(store: &dyn Store) -> Result<Vec<String>> {
    let listed = store
        .list_log_events(&LogQuery {
            limit: 1000,
            ..Default::default()
        })
        .await?;
    Ok(listed.into_iter().map(|e| e.event.uuid).collect())
}

/// Writes a job of `n` events; returns their uuids and whether the write was acknowledged.
async fn write(store: &dyn Store, name: &str, n: usize, event_type: &str) -> (Vec<String>, bool) {
    let events: Vec<_> = (0..n)
        .map(|i| event(&format!("{name}-{i}"), event_type))
        .collect();
    let ok = store.append_log_events(&events).await.is_ok();
    (events.into_iter().map(|e| e.uuid).collect(), ok)
}

/// After the faulty writes in `outcomes`: writes succeed again, on the writer and elsewhere,
/// and exactly the acknowledged events are stored.
async fn check_recovery(store: &dyn Store, mut outcomes: Vec<(Vec<String>, bool)>) -> Result<()> {
    for i in 0..3 {
        for n in [1, 3] {
            let (uuids, ok) = write(store, &format!("after-{i}-{n}"), n, "ok").await;
            ensure!(ok, "a write after the fault cleared failed: {uuids:?}");
            outcomes.push((uuids, true));
        }
    }
    let stored = stored(store).await?;
    for (uuids, ok) in &outcomes {
        for uuid in uuids {
            ensure!(
                stored.contains(uuid) == *ok,
                "event {uuid}: acknowledged {ok}, stored {}",
                !ok
            );
        }
    }
    // Another connection can write: the writer holds no lock.
    tokio::time::timeout(Duration::from_secs(20), store.set_meta("probe", "1"))
        .await
        .map_err(|_| anyhow::anyhow!("set_meta hung"))??;
    Ok(())
}

/// SQLite: the writer's database is "full" (`max_page_count` at its current size) for a
/// while. SQLite then rolls whole transactions back by itself; the writer must not carry a
/// half-finished transaction into the next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writer_recovers_from_a_full_disk() -> Result<()> {
    let db = TestDatabase::new(Backend::Sqlite).await?;
    let store = connect_sqlite(&db.url).await?;
    let writer = store.writer_pool().clone();
    let fill = || async {
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&writer)
            .await?;
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&writer)
            .await?;
        anyhow::Ok(())
    };
    // An event stored before the fault: writing it again fails (a unique key), which SQLite
    // undoes statement by statement, not by ending the transaction.
    let (_, ok) = write(&store, "dup", 1, "ok").await;
    ensure!(ok);
    let duplicate = || async {
        let (uuids, ok) = write(&store, "dup", 1, "ok").await;
        ensure!(!ok, "{uuids:?} written twice");
        anyhow::Ok(())
    };
    let mut outcomes = Vec::new();
    let mut failed = 0;
    // One-row jobs and several-row ones, each followed by a job that fails on its own.
    for (i, n) in [1, 3, 1, 3].into_iter().enumerate() {
        fill().await?;
        let outcome = write(&store, &format!("full-{i}"), n, "full").await;
        failed += usize::from(!outcome.1);
        outcomes.push(outcome);
        duplicate().await?;
    }
    ensure!(failed > 0, "the full database refused nothing");
    sqlx::query("PRAGMA max_page_count = 1073741823")
        .execute(&writer)
        .await?;
    duplicate().await?;
    check_recovery(&store, outcomes).await
}

/// PostgreSQL: a deferred constraint trigger fails the commit of any transaction holding an
/// event of type `fail`; batches mixing such jobs with good ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writer_acknowledges_only_committed_jobs() -> Result<()> {
    let db = TestDatabase::new(Backend::Postgres).await?;
    let store = connect_postgres(&db.url).await?;
    for sql in [
        "CREATE FUNCTION fail_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.event_type = 'fail' THEN RAISE EXCEPTION 'injected commit failure'; END IF; \
         RETURN NEW; END $$",
        "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON system_log \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_marked()",
    ] {
        sqlx::query(sql).execute(store.pool()).await?;
    }
    let store = std::sync::Arc::new(store);
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let kind = if i % 3 == 0 { "fail" } else { "ok" };
                write(store.as_ref(), &format!("mixed-{i}"), 1 + i % 2, kind).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        let (uuids, ok) = t.await?;
        let fail = uuids.iter().any(|u| {
            u.strip_prefix("mixed-")
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n % 3 == 0)
        });
        ensure!(ok != fail, "{uuids:?}: acknowledged {ok}");
        outcomes.push((uuids, ok));
    }
    check_recovery(store.as_ref(), outcomes).await
}
