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
//! token `last_used`, the purge): each is woken as soon as the previous one commits. Other
//! processes (the CLI) and rarer writes still meet the busy handler, as before.
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
//! [`RESTART_AFTER_FRAMES`], the checkpointer follows its checkpoint with one in the gate's
//! turn: no batch appends meanwhile, it copies the little appended during the first, and the
//! next write starts the WAL over. The turn costs the writers one short checkpoint (a few frames and an fsync of
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
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tick.tick() => {}
            }
            match checkpoint(&pool).await {
                Ok((log, copied)) => {
                    if log > 0 {
                        tracing::trace!(log, copied, "WAL checkpoint");
                    }
                    // Grown past the mark: at once (not a tick later, while the WAL keeps
                    // growing) copy in the writers' turn what was appended during this one.
                    if log > restart_after_frames {
                        let _turn = gate.enter().await;
                        if let Err(e) = checkpoint(&pool).await {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
            }
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
    /// load, until the WAL has started over `restarts` times or `limit` has passed; returns the
    /// times it started over.
    async fn write_under_load(
        path: &std::path::Path,
        restart_after_frames: i64,
        restarts: u32,
        limit: Duration,
    ) -> Result<u32, Box<dyn std::error::Error>> {
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
        let mut seen = 0;
        let mut header = wal_restart_header(&wal)?;
        let started = std::time::Instant::now();
        while seen < restarts && started.elapsed() < limit {
            let _turn = gate.enter().await;
            sqlx::query("INSERT INTO t (x) VALUES (?)")
                .bind(&row)
                .execute(&writer)
                .await?;
            let now = wal_restart_header(&wal)?;
            if now != header {
                seen += 1;
                header = now;
            }
        }
        Ok(seen)
    }

    /// The WAL header's checkpoint sequence number and salts, which SQLite changes each time
    /// the WAL starts over from its first frame (and at no other time).
    fn wal_restart_header(wal: &std::path::Path) -> std::io::Result<[u8; 12]> {
        use std::io::Read;
        let mut header = [0u8; 24];
        std::fs::File::open(wal)?.read_exact(&mut header)?;
        let mut marks = [0u8; 12];
        marks.copy_from_slice(&header[12..24]);
        Ok(marks)
    }

    #[tokio::test]
    async fn under_steady_writes_the_wal_starts_over_once_past_the_mark() -> Res {
        let dir = std::env::temp_dir().join(format!("gh_wal_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        // Counted, not timed: a loaded machine only makes the restarts come later. Without the
        // writers' turn the WAL never starts over under this load (stop 23: 462 MB of WAL for
        // 222 MB of rows in 4 s).
        let outcome = write_under_load(&dir.join("db"), 64, 3, Duration::from_secs(30)).await;
        std::fs::remove_dir_all(&dir)?;
        let restarts = outcome?;
        assert!(
            restarts >= 3,
            "the WAL started over {restarts} times in 30 s"
        );
        Ok(())
    }
}
