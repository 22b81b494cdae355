//! SQLite and PostgreSQL implementations of Gatehouse's storage traits
//! ([`gatehouse_core::store`]).
//!
//! [`connect`] picks the backend from the URL scheme, opens a pool and runs the embedded
//! migrations. Both backends share one SQL implementation ([`SqlStore`]); the schema lives in
//! `migrations/sqlite` and `migrations/postgres`, numbered alike.
#![forbid(unsafe_code)]

mod changes;
mod direct_grant_read;
mod direct_read;
mod error;
pub mod files;
mod group_commit;
mod read_batch;
mod rows;
mod sql;
pub mod test_support;
mod write_gate;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::store::Store;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use error::ConnectError;
pub use sql::{PgStore, SqlStore, SqliteStore};

/// The migrations of each backend, embedded at compile time.
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The most SQLite read connections by default, whatever the core count.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// How long an unused SQLite read connection stays open (sqlx's default is 10 minutes). Each is
/// a thread with its own page cache and parsed schema: a burst's extra readers go a minute
/// after it, not ten.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL: how long a request waits for a connection before it is answered 503. During an
/// outage every request would otherwise wait this long for the pool to give up reconnecting;
/// under load, connections are returned within milliseconds.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens the database named by `database_url` and brings its schema up to date.
///
/// * `sqlite:` URLs (e.g. `sqlite://data/gatehouse.db`, `sqlite::memory:`): the file is created
///   if missing; WAL journal, `synchronous = FULL` (every commit is on disk before it returns),
///   foreign keys on, 5 s busy timeout.
/// * `postgres:` / `postgresql:` URLs.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, ConnectError> {
    connect_with(database_url, PoolSize::default()).await
}

/// The pool's size; `None` takes the backend's default ([`PoolSize::sqlite_readers`],
/// [`PoolSize::postgres`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolSize {
    /// The most pooled connections: SQLite's read pool (the batching writer and the
    /// checkpointer have one connection each besides), or PostgreSQL's whole pool.
    pub max_connections: Option<u32>,
}

impl PoolSize {
    /// SQLite readers: two per core the process may run on (`available_parallelism`, which
    /// follows `taskset` and cgroup CPU limits), at least 2, at most 8. A read takes SQLite
    /// microseconds and needs a core, so more readers than that only add threads, page caches
    /// and parsed schemas (each reader is a thread of its own with all three).
    pub fn sqlite_readers(self) -> u32 {
        self.max_connections.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            u32::try_from(cores.saturating_mul(2))
                .unwrap_or(u32::MAX)
                .clamp(2, SQLITE_MAX_CONNECTIONS)
        })
    }

    /// PostgreSQL: the whole pool (its connections' memory is the server's backends, not ours).
    pub fn postgres(self) -> u32 {
        self.max_connections.unwrap_or(POSTGRES_MAX_CONNECTIONS)
    }
}

/// [`connect`] with the pool sized by `size`.
pub async fn connect_with(
    database_url: &str,
    size: PoolSize,
) -> Result<Arc<dyn Store>, ConnectError> {
    match scheme(database_url) {
        "sqlite" => Ok(Arc::new(connect_sqlite_with(database_url, size).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(connect_postgres_with(database_url, size).await?)),
        other => Err(ConnectError::UnsupportedScheme(other.to_owned())),
    }
}

/// The URL's scheme (the part before the first `:`), never any credentials.
fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Opens (creating if missing) and migrates a SQLite database.
pub async fn connect_sqlite(database_url: &str) -> Result<SqliteStore, ConnectError> {
    connect_sqlite_with(database_url, PoolSize::default()).await
}

/// [`connect_sqlite`] with at most `size` read connections.
pub async fn connect_sqlite_with(
    database_url: &str,
    size: PoolSize,
) -> Result<SqliteStore, ConnectError> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|source| ConnectError::InvalidUrl {
            backend: "SQLite",
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Spelled out: a token response goes out only after its records are on disk.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Checkpoints run in the background, not inside whichever commit crosses the
        // threshold (see `write_gate`).
        .pragma("wal_autocheckpoint", "0");
    let in_memory = is_sqlite_memory(database_url);
    if !in_memory {
        // `create_if_missing` creates the file, not its directory, and with the umask's mode.
        files::prepare(options.get_filename()).map_err(|e| ConnectError::Connect {
            backend: "SQLite",
            source: sqlx::Error::Io(e),
        })?;
    }
    // No ping before each use: the connection is in this process and cannot have hung up, and
    // the ping is one more hop to the connection's worker thread for every query.
    let mut pool = SqlitePoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false);
    if !in_memory {
        pool = pool.after_release(|conn, _| Box::pin(discard_if_in_transaction(conn)));
    }
    pool = if in_memory {
        // Every connection to `:memory:` is its own database: keep exactly one, forever.
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        pool.max_connections(size.sqlite_readers().max(1))
            .idle_timeout(IDLE_TIMEOUT)
    };
    let connect_err = |source| ConnectError::Connect {
        backend: "SQLite",
        source,
    };
    let pool = pool
        .connect_with(options.clone())
        .await
        .map_err(connect_err)?;
    migrate_sqlite(&pool).await?;
    tracing::debug!(in_memory, "SQLite store ready");
    if in_memory {
        return Ok(SqlStore::new(pool));
    }
    // The batching writer keeps one connection of its own, for good: SQLite drops a
    // connection's page cache whenever another connection wrote since its last use, so a
    // writer taking whichever pooled connection is free would re-read the pages it appends to
    // (the last pages of the token and log tables and their indexes) for every batch.
    let filename = options.get_filename().to_path_buf();
    let single = || {
        SqlitePoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(discard_if_in_transaction(conn)))
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    };
    let writer_pool = single()
        .connect_with(options.clone())
        .await
        .map_err(connect_err)?;
    let checkpoint_pool = single().connect_with(options).await.map_err(connect_err)?;
    Ok(SqlStore::with_writer_pool(pool, writer_pool)
        .with_checkpointer(checkpoint_pool, write_gate::RESTART_AFTER_FRAMES)
        .with_direct_reads(filename))
}

/// The pools' `after_release` check: `Ok(false)` (close the connection; the pool opens a fresh
/// one) when a released connection still believes it is inside a transaction.
///
/// Every transaction ends (commit or rollback) before its connection goes back, so a nonzero
/// depth means the end failed. On SQLite that happens when an I/O error or a full disk makes
/// SQLite roll the transaction back by itself: sqlx's `COMMIT` (or the statement) fails, its
/// `ROLLBACK` then fails too ("no transaction is active"), and its depth counter stays at 1.
/// Kept, such a connection would run the next `begin` as a `SAVEPOINT` and that transaction's
/// commit as a `RELEASE`, which commits nothing when an outer transaction is still open: writes
/// acknowledged but never stored, and the write lock held for good ("database is locked" for
/// every other connection). A fresh connection has no such state. Free in the normal case (one
/// atomic load); the ping lets a rollback queued by a dropped transaction run first.
async fn discard_if_in_transaction<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("a database connection was left inside a failed transaction; reopening it");
        return Ok(false);
    }
    Ok(true)
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Connects to and migrates a PostgreSQL database.
pub async fn connect_postgres(database_url: &str) -> Result<PgStore, ConnectError> {
    connect_postgres_with(database_url, PoolSize::default()).await
}

/// [`connect_postgres`] with at most `size` connections.
pub async fn connect_postgres_with(
    database_url: &str,
    size: PoolSize,
) -> Result<PgStore, ConnectError> {
    let options =
        PgConnectOptions::from_str(database_url).map_err(|source| ConnectError::InvalidUrl {
            backend: "PostgreSQL",
            source,
        })?;
    // No ping before each use (sqlx's default makes every query two round trips). A
    // connection the server dropped fails the one query that finds it and is then discarded;
    // a failed batched write is retried job by job on fresh connections.
    let pool = PgPoolOptions::new()
        .max_connections(size.postgres().max(1))
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .after_release(|conn, _| Box::pin(discard_if_in_transaction(conn)))
        .connect_with(options)
        .await
        .map_err(|source| ConnectError::Connect {
            backend: "PostgreSQL",
            source,
        })?;
    migrate_postgres(&pool).await?;
    tracing::debug!("PostgreSQL store ready");
    Ok(SqlStore::new(pool))
}

/// Applies the pending SQLite migrations.
pub async fn migrate_sqlite(pool: &sqlx::SqlitePool) -> Result<(), ConnectError> {
    SQLITE_MIGRATOR.run(pool).await?;
    Ok(())
}

/// Applies the pending PostgreSQL migrations (safe to run from several nodes at once: sqlx takes
/// an advisory lock).
pub async fn migrate_postgres(pool: &sqlx::PgPool) -> Result<(), ConnectError> {
    POSTGRES_MIGRATOR.run(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_is_the_part_before_the_colon() {
        assert_eq!(scheme("sqlite::memory:"), "sqlite");
        assert_eq!(scheme("postgres://u:p@h/db"), "postgres");
        assert_eq!(scheme("no-scheme"), "");
    }

    #[tokio::test]
    async fn unsupported_scheme_is_rejected_without_echoing_the_url() {
        let err = connect("mysql://user:secret@localhost/db").await.err();
        assert!(matches!(&err, Some(ConnectError::UnsupportedScheme(s)) if s == "mysql"));
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("mysql") && !message.contains("secret"),
            "{message}"
        );
    }

    #[test]
    fn pool_size_defaults_follow_the_cores_and_a_setting_wins() {
        let readers = PoolSize::default().sqlite_readers();
        assert!((2..=SQLITE_MAX_CONNECTIONS).contains(&readers), "{readers}");
        assert_eq!(PoolSize::default().postgres(), POSTGRES_MAX_CONNECTIONS);
        let set = PoolSize {
            max_connections: Some(12),
        };
        assert_eq!((set.sqlite_readers(), set.postgres()), (12, 12));
    }

    /// The smallest pool a setting can ask for still serves concurrent reads and writes.
    #[tokio::test]
    async fn sqlite_with_one_read_connection_serves_concurrent_calls()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("gh-pool-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("one.db").display());
        let outcome = async {
            let one = PoolSize {
                max_connections: Some(1),
            };
            let store = connect_with(&url, one).await?;
            let calls: Vec<_> = (0..16)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        let key = format!("k{}", i % 4);
                        store.set_meta(&key, &i.to_string()).await?;
                        store.get_meta(&key).await
                    })
                })
                .collect();
            for call in calls {
                let value = tokio::time::timeout(Duration::from_secs(5), call).await???;
                assert!(value.is_some());
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    #[tokio::test]
    async fn in_memory_sqlite_keeps_its_data_across_calls() -> Result<(), Box<dyn std::error::Error>>
    {
        let store = connect("sqlite::memory:").await?;
        store.set_meta("k", "v").await?;
        assert_eq!(store.get_meta("k").await?.as_deref(), Some("v"));
        Ok(())
    }

    #[tokio::test]
    async fn sqlite_file_and_its_directory_are_created() -> Result<(), Box<dyn std::error::Error>> {
        let dir =
            std::env::temp_dir().join(format!("gh_test_dir_{}", uuid::Uuid::new_v4().simple()));
        let file = dir.join("nested").join("gatehouse.db");
        let outcome = async {
            let store = connect(&format!("sqlite://{}", file.display())).await?;
            store.set_meta("k", "v").await?;
            // Private: the directory 0700, the database and its WAL files 0600.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = |p: &std::path::Path| {
                    std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777)
                };
                assert_eq!(mode(&dir.join("nested"))?, 0o700);
                assert_eq!(mode(&dir)?, 0o700);
                for suffix in ["", "-wal", "-shm"] {
                    let f = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
                    assert_eq!(mode(&f)?, 0o600, "{}", f.display());
                }
            }
            drop(store);
            // A database left readable by an earlier version is narrowed on start.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
            }
            // Reopening finds the data and does not re-run the migrations.
            let store = connect(&format!("sqlite://{}", file.display())).await?;
            assert_eq!(store.get_meta("k").await?.as_deref(), Some("v"));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome?;
        Ok(())
    }
}
