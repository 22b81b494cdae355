//! Scratch databases for tests (this crate's and other crates').
//!
//! PostgreSQL tests use the server at `GATEHOUSE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each [`TestDatabase`] gets its own schema in that
//! database (its URL sets `search_path` to it), dropped again when the value is dropped. A
//! schema costs milliseconds where `CREATE DATABASE` plus `DROP DATABASE` cost most of a
//! second, which dominated every PostgreSQL test.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

use crate::ConnectError;

/// Where PostgreSQL test schemas are created (an admin connection URL).
pub const PG_URL_ENV: &str = "GATEHOUSE_TEST_PG_URL";
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

const ADMIN_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A fresh, empty, migrated database (a schema, on PostgreSQL). Dropping it removes it (best
/// effort).
#[derive(Debug)]
pub struct TestDatabase {
    /// Pass to [`crate::connect`].
    pub url: String,
    backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteFile(PathBuf),
    PostgresSchema { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Result<TestDatabase, ConnectError> {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let db = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("gh_test_{unique}.db"));
                let url = format!("sqlite://{}", path.display());
                TestDatabase {
                    url,
                    backend,
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
            Backend::Postgres => {
                let admin_url =
                    std::env::var(PG_URL_ENV).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
                let name = format!("gh_test_{unique}");
                let url = schema_url(&admin_url, &name)?;
                let mut admin = admin_connection(&admin_url).await?;
                let created = admin
                    .execute(format!("CREATE SCHEMA \"{name}\"").as_str())
                    .await;
                let _ = admin.close().await;
                created.map_err(|e| ConnectError::TestSetup(format!("CREATE SCHEMA: {e}")))?;
                TestDatabase {
                    url,
                    backend,
                    cleanup: Cleanup::PostgresSchema { admin_url, name },
                }
            }
        };
        // Migrate now, so the database is ready even for callers that bypass `connect`.
        match backend {
            Backend::Sqlite => crate::connect_sqlite(&db.url).await?.pool().close().await,
            Backend::Postgres => crate::connect_postgres(&db.url).await?.pool().close().await,
        }
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::PostgresSchema { admin_url, name } => {
                let admin_url = admin_url.clone();
                let sql = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                // Drop may run inside an async runtime, which cannot be blocked on: use a thread
                // with its own small runtime, and wait for it so the schema does not outlive
                // the test process.
                let worker = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async move {
                        if let Ok(mut admin) = admin_connection(&admin_url).await {
                            let _ =
                                tokio::time::timeout(ADMIN_TIMEOUT, admin.execute(sql.as_str()))
                                    .await;
                            let _ = admin.close().await;
                        }
                    });
                });
                let _ = worker.join();
            }
        }
    }
}

async fn admin_connection(admin_url: &str) -> Result<PgConnection, ConnectError> {
    match tokio::time::timeout(ADMIN_TIMEOUT, PgConnection::connect(admin_url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(source)) => Err(ConnectError::Connect {
            backend: "PostgreSQL",
            source,
        }),
        Err(_) => Err(ConnectError::TestSetup(
            "timed out connecting to the PostgreSQL test server".into(),
        )),
    }
}

/// `admin_url` with `search_path` set to the schema `name` on every connection.
fn schema_url(admin_url: &str, name: &str) -> Result<String, ConnectError> {
    let mut url = url::Url::parse(admin_url)
        .map_err(|e| ConnectError::TestSetup(format!("bad {PG_URL_ENV}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={name}"));
    Ok(url.to_string())
}

/// A bound value of a statement returned by the plan helpers below.
pub use crate::sql::user_query::Bind as SqlBind;

/// The expiry purge's statements over all grants (`sql/purge.rs`): a chunk's end, and the
/// chunk's delete (`$1` now, ids in (`$2`, `$3`]); how often it walks every grant, and the
/// `meta` name of when it last did.
pub use crate::sql::purge::{
    GRANT_CHUNK_END, GRANT_WALK_EVERY, GRANT_WALK_META, PURGE_REFRESH_TOKEN_CHUNK,
    REFRESH_TOKEN_CHUNK_END,
};

/// The end of the expiry purge's next chunk of grants on `backend` (`sql/purge.rs`): along
/// `id` on PostgreSQL (`$1` an id), the rowid on SQLite (`$1` an integer).
pub fn grant_chunk_end_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => crate::sql::purge::GRANT_CHUNK_END_SQLITE,
        Backend::Postgres => crate::sql::purge::GRANT_CHUNK_END,
    }
}

/// The expiry purge's delete of one chunk of grants on `backend` (`sql/purge.rs`).
pub fn purge_grant_chunk_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => crate::sql::purge::PURGE_GRANT_CHUNK,
        Backend::Postgres => crate::sql::purge::PURGE_GRANT_CHUNK_POSTGRES,
    }
}

/// The expiry purge's probe of the grants whose codes or tokens a pass deleted on `backend`
/// (`$1` now, `$2` the ids: a JSON array on SQLite, a text array on PostgreSQL).
pub fn probe_grants_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => crate::sql::purge::PROBE_GRANTS,
        Backend::Postgres => crate::sql::purge::PROBE_GRANTS_POSTGRES,
    }
}

/// The expiry purge's batches of expired codes and tokens on `backend` (`$1` now, `$2` the
/// batch's size), each returning their grants' ids.
pub fn expired_with_grant_statements(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &crate::sql::purge::EXPIRED_WITH_GRANT_SQLITE,
        Backend::Postgres => &crate::sql::purge::EXPIRED_WITH_GRANT_POSTGRES,
    }
}

fn dialect(backend: Backend) -> crate::sql::user_query::Dialect {
    match backend {
        Backend::Sqlite => crate::sql::user_query::Dialect::Sqlite,
        Backend::Postgres => crate::sql::user_query::Dialect::Postgres,
    }
}

/// Every statement `search_users` may run for these arguments (the probe and both plans, or
/// the one statement), with its binds: plan tests `EXPLAIN` them.
pub fn user_search_statements(
    backend: Backend,
    filter: Option<&gatehouse_core::domain::UserFilter>,
    after: Option<&str>,
    limit: u32,
) -> Vec<(String, Vec<SqlBind>)> {
    crate::sql::users::search_plan(dialect(backend), filter, after, i64::from(limit)).statements()
}

/// The one statement `quick_search_users` runs (`q=`), with its binds, for plan tests.
pub fn quick_search_statement(
    backend: Backend,
    q: &str,
    filter: Option<&gatehouse_core::domain::UserFilter>,
    limit: u32,
) -> (String, Vec<SqlBind>) {
    crate::sql::users::quick_search_statement(dialect(backend), q, filter, i64::from(limit))
}

/// The fixed keyset statements of the paging queries: all users after `$1`, a group's members
/// after `$2` (`$1` the group), as (name, SQL), as `backend` runs them.
pub fn keyset_statements(backend: Backend) -> Vec<(&'static str, &'static str)> {
    let members = match backend {
        Backend::Sqlite => crate::sql::groups::MEMBERS_AFTER[0],
        Backend::Postgres => crate::sql::groups::MEMBERS_AFTER[1],
    };
    vec![
        ("users after", crate::sql::users::USERS_AFTER),
        ("group members after", members),
    ]
}

/// The statement `list_log_events` runs for `query`, its `after` at `(published_ms, seq)`.
pub fn log_statement(
    query: &gatehouse_core::domain::LogQuery,
    cursor: Option<(i64, i64)>,
) -> (String, Vec<SqlBind>) {
    crate::sql::log_query::log_page_statement(query, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_url_keeps_the_database_and_sets_search_path() -> Result<(), ConnectError> {
        assert_eq!(
            schema_url("postgres://u:p@h:5432/test?sslmode=disable", "gh_x")?,
            "postgres://u:p@h:5432/test?sslmode=disable&options=-c+search_path%3Dgh_x"
        );
        Ok(())
    }

    #[test]
    fn backend_names() {
        assert_eq!(Backend::ALL.map(Backend::name), ["sqlite", "postgres"]);
    }
}
