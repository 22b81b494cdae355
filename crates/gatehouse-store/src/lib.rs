//! SQLite and PostgreSQL implementations of Gatehouse's storage traits
//! ([`gatehouse_core::store`]).
//!
//! [`connect`] picks the backend from the URL scheme, opens a pool and runs the embedded
//! migrations. Both backends share one SQL implementation ([`SqlStore`]); the schema lives in
//! `migrations/sqlite` and `migrations/postgres`, numbered alike.
#![forbid(unsafe_code)]

mod error;
mod group_commit;
mod rows;
mod sql;
mod sql_account;
mod sql_authz;
mod sql_client_secrets;
mod sql_clients;
mod sql_consent;
mod sql_device;
mod sql_logs;
mod sql_roles;
pub mod test_support;

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

const SQLITE_MAX_CONNECTIONS: u32 = 8;
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the database named by `database_url` and brings its schema up to date.
///
/// * `sqlite:` URLs (e.g. `sqlite://data/gatehouse.db`, `sqlite::memory:`): the file is created
///   if missing; WAL journal, `synchronous = FULL` (every commit is on disk before it returns),
///   foreign keys on, 5 s busy timeout.
/// * `postgres:` / `postgresql:` URLs.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, ConnectError> {
    match scheme(database_url) {
        "sqlite" => Ok(Arc::new(connect_sqlite(database_url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(connect_postgres(database_url).await?)),
        other => Err(ConnectError::UnsupportedScheme(other.to_owned())),
    }
}

/// The URL's scheme (the part before the first `:`), never any credentials.
fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Opens (creating if missing) and migrates a SQLite database.
pub async fn connect_sqlite(database_url: &str) -> Result<SqliteStore, ConnectError> {
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
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let in_memory = is_sqlite_memory(database_url);
    if !in_memory {
        // `create_if_missing` creates the file, not its directory.
        let dir = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| ConnectError::Connect {
                backend: "SQLite",
                source: sqlx::Error::Io(e),
            })?;
        }
    }
    // No ping before each use: the connection is in this process and cannot have hung up, and
    // the ping is one more hop to the connection's worker thread for every query.
    let mut pool = SqlitePoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false);
    pool = if in_memory {
        // Every connection to `:memory:` is its own database: keep exactly one, forever.
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        pool.max_connections(SQLITE_MAX_CONNECTIONS)
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
    let writer_pool = SqlitePoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(connect_err)?;
    Ok(SqlStore::with_writer_pool(pool, writer_pool))
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Connects to and migrates a PostgreSQL database.
pub async fn connect_postgres(database_url: &str) -> Result<PgStore, ConnectError> {
    let options =
        PgConnectOptions::from_str(database_url).map_err(|source| ConnectError::InvalidUrl {
            backend: "PostgreSQL",
            source,
        })?;
    // No ping before each use (sqlx's default makes every query two round trips). A
    // connection the server dropped fails the one query that finds it and is then discarded;
    // a failed batched write is retried job by job on fresh connections.
    let pool = PgPoolOptions::new()
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
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
            drop(store);
            // Reopening finds the data and does not re-run the migrations.
            let store = connect(&format!("sqlite://{}", file.display())).await?;
            assert_eq!(store.get_meta("k").await?.as_deref(), Some("v"));
            Ok::<_, Box<dyn std::error::Error>>(())
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome?;
        Ok(())
    }
}
