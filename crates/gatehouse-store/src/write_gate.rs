//! SQLite's single writer, shared fairly inside one node, and its WAL checkpoints kept off the
//! write path.
//!
//! SQLite lets one connection write at a time. A connection that finds the write lock taken
//! sleeps in SQLite's busy handler (1, 2, 5, 10, 15, 20, 25, … 100 ms between tries) and does not
//! learn when the lock is released. Four concurrent API readers (each request writes its
//! rate-limit counter) made ~2,900 such sleeps in 16 s (strace), 256 of them the 10 ms fourth
//! try: 18 ms asleep behind commits of a few ms, the ~20 ms p99 floor of the cost curve; behind a
//! retention purge batch the sleeps grew to 100 ms a try. The [`WriteGate`] is a FIFO queue in
//! front of the lock for this node's hot writers (the batching writer, rate-limit counters, API
//! token `last_used`, the purges, and a sign-in's own rows: its login transaction, failure
//! counter, `last_login`, session and code): each is woken as soon as the previous one commits.
//! Other processes (the CLI) and rarer writes still meet the busy handler, as before.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, so the
//! request (or batch) that happened to commit then waited for every page to be copied and the
//! database fsynced — while holding the gate, every writer would. Connections are opened with
//! `wal_autocheckpoint = 0` instead, and [`spawn_checkpointer`] runs a PASSIVE checkpoint (which
//! never blocks writers or readers) every [`CHECKPOINT_EVERY`] on a connection of its own.
//! Durability is unchanged: a commit is on disk when it is in the WAL (`synchronous = FULL`).
//!
//! SQLite starts the WAL over from its first frame only when a write begins with every frame
//! already copied. Under steady load a background checkpoint never sees that moment (batches
//! keep appending while it copies), so the WAL grew without bound: ~100 MB in 6 s of refresh
//! with rotation, and a disk filling at the token rate. When the WAL has grown past
//! [`RESTART_AFTER_FRAMES`], the checkpointer runs its next checkpoint in the gate's turn: no
//! batch appends meanwhile, it copies the little the last one left, and the next write starts
//! the WAL over. The turn costs the writers one short checkpoint (a few frames and an fsync of
//! the database file) at most once per [`CHECKPOINT_EVERY`], and only under load.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// How often the checkpointer copies the WAL into the database: often enough to keep the WAL
/// short (SQLite's default threshold is 1,000 pages), rarely enough to cost nothing when idle.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL frames (pages) past which a checkpoint takes the writers' turn so that the WAL starts
/// over (4,096 pages of 4 KiB: 16 MiB).
pub(crate) const RESTART_AFTER_FRAMES: i64 = 4096;

/// The node's queue for SQLite's write lock; open (no queue) on PostgreSQL, whose row locks
/// wake waiters themselves.
#[derive(Clone, Default)]
pub(crate) struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    /// A queue for SQLite, none for the other backends (`sqlx::Database::NAME`).
    pub(crate) fn for_backend(name: &str) -> Self {
        if name == "SQLite" {
            Self(Some(Arc::new(Mutex::new(()))))
        } else {
            Self(None)
        }
    }

    /// Waits for this node's turn to write (FIFO); the turn lasts until the guard is dropped, so
    /// take it before the connection and drop it after the commit.
    pub(crate) async fn enter(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.0 {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        }
    }
}

/// Stops the checkpointer when the store's last clone is dropped.
pub(crate) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

/// Starts the background PASSIVE checkpoints over `pool` (a pool of its own, one connection),
/// in `gate`'s turn once the WAL is longer than `restart_after_frames`.
pub(crate) fn spawn_checkpointer(
    pool: sqlx::SqlitePool,
    gate: WriteGate,
    restart_after_frames: i64,
) -> Checkpointer {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut in_turn = false;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tick.tick() => {}
            }
            let turn = if in_turn { gate.enter().await } else { None };
            in_turn = match checkpoint(&pool).await {
                Ok((log, copied)) => {
                    if log > 0 {
                        tracing::trace!(log, copied, in_turn = turn.is_some(), "WAL checkpoint");
                    }
                    // Grown past the mark and not just started over: the next one in the turn.
                    turn.is_none() && log > restart_after_frames
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                    false
                }
            };
        }
        pool.close().await;
    });
    Checkpointer { _stop: stop }
}

/// One PASSIVE checkpoint: (WAL frames, frames copied). Nothing to copy is one shared-memory
/// check.
async fn checkpoint(pool: &sqlx::SqlitePool) -> Result<(i64, i64), sqlx::Error> {
    let (_busy, log, copied) =
        sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool)
            .await?;
    Ok((log, copied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };

    type Res = Result<(), Box<dyn std::error::Error>>;

    /// Writes 8 KiB rows in the gate's turn, back to back, as the batching writer does under
    /// load, for `run`; returns the WAL file's largest size seen and the bytes of rows written.
    async fn write_under_load(
        path: &std::path::Path,
        restart_after_frames: i64,
        run: Duration,
    ) -> Result<(u64, u64), Box<dyn std::error::Error>> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("wal_autocheckpoint", "0");
        let one = || {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
        };
        let writer = one().connect_with(options.clone()).await?;
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&writer)
            .await?;
        let gate = WriteGate::for_backend("SQLite");
        let checkpoints = one().connect_with(options).await?;
        let _checkpointer = spawn_checkpointer(checkpoints, gate.clone(), restart_after_frames);
        let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
        let row = vec![7u8; 8192];
        let (mut largest, mut written) = (0, 0);
        let started = std::time::Instant::now();
        while started.elapsed() < run {
            let _turn = gate.enter().await;
            sqlx::query("INSERT INTO t (x) VALUES (?)")
                .bind(&row)
                .execute(&writer)
                .await?;
            written += row.len() as u64;
            largest = largest.max(std::fs::metadata(&wal)?.len());
        }
        Ok((largest, written))
    }

    #[tokio::test]
    async fn under_steady_writes_the_wal_starts_over_once_past_the_mark() -> Res {
        let dir = std::env::temp_dir().join(format!("gh_wal_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let outcome = write_under_load(&dir.join("db"), 64, Duration::from_secs(4)).await;
        std::fs::remove_dir_all(&dir)?;
        let (largest, written) = outcome?;
        // Never starting over, the WAL file holds every row written (and page headers). Starting
        // over, it keeps the size it had reached then (the file is reused, not shrunk): what
        // the first second or so wrote, about a third of this run's rows.
        assert!(
            largest * 3 < written * 2,
            "the WAL grew to {largest} bytes for {written} bytes of rows"
        );
        Ok(())
    }
}
