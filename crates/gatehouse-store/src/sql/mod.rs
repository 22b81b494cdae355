//! The storage traits, implemented once in SQL for both backends.
//!
//! One file per area, one `impl_…_store!` macro per trait in it, expanded with the same bodies
//! for `SqlStore<Sqlite>` and `SqlStore<Postgres>`: the queries use `$n` placeholders (which
//! sqlx's SQLite driver accepts too), portable types and `ON CONFLICT` / `RETURNING`, which
//! both databases support.
//!
//! SQLite note: inside a transaction the first statement is always a write, so the connection
//! takes the write lock up front (waiting on `busy_timeout`) instead of failing to upgrade a
//! read snapshot.

mod account;
mod api_tokens;
mod apps;
mod auth_servers;
mod authn;
mod authz;
mod client_secrets;
mod clients;
mod consent;
mod device;
mod factors;
mod federation;
pub(crate) mod groups;
mod idps;
mod keys;
mod links;
pub(crate) mod log_query;
mod logout;
pub(crate) mod logs;
mod meta;
mod passwords;
mod policies;
pub(crate) mod purge;
mod rate_limits;
mod roles;
mod sessions;
mod setup;
mod throttled_reads;
mod token_reads;
mod tokens;
mod trusted_origins;
pub(crate) mod user_query;
pub(crate) mod users;
mod webauthn;

use gatehouse_core::store::{Page, StoreError, StoreResult};

use std::sync::Arc;

use crate::group_commit::GroupCommit;
use crate::write_gate::{Checkpointer, WriteGate, spawn_checkpointer};

pub use token_reads::TokenReadBackend;
use token_reads::TokenReads;

/// A store over a `sqlx` connection pool; implements every storage trait for
/// [`sqlx::Sqlite`] and [`sqlx::Postgres`].
pub struct SqlStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    /// This node's batching writer for token records and System Log events.
    writer: Arc<GroupCommit<sqlx::Pool<DB>>>,
    /// This node's batched reads of access tokens (and their users) for protected requests.
    reads: Arc<TokenReads>,
    /// SQLite: this node's queue for the write lock (see [`crate::write_gate`]).
    gate: WriteGate,
    /// SQLite files: the background WAL checkpoints, stopped with the last clone.
    checkpointer: Option<Arc<Checkpointer>>,
}

/// The SQLite store.
pub type SqliteStore = SqlStore<sqlx::Sqlite>;
/// The PostgreSQL store.
pub type PgStore = SqlStore<sqlx::Postgres>;

impl<DB: TokenReadBackend> SqlStore<DB> {
    /// Wraps a pool whose database has already been migrated (see [`crate::migrate_sqlite`] and
    /// [`crate::migrate_postgres`]).
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self::with_writer_pool(pool.clone(), pool)
    }

    /// As [`SqlStore::new`], with the batching writer on its own pool (see
    /// [`crate::connect_sqlite`]).
    pub fn with_writer_pool(pool: sqlx::Pool<DB>, writer_pool: sqlx::Pool<DB>) -> Self {
        let gate = WriteGate::for_backend(DB::NAME);
        Self {
            writer: Arc::new(GroupCommit::with_gate(writer_pool, gate.clone())),
            reads: Arc::new(DB::token_reads(pool.clone())),
            pool,
            gate,
            checkpointer: None,
        }
    }
}

impl SqlStore<sqlx::Sqlite> {
    /// Runs WAL checkpoints over `pool` (its own connection) as long as this store or a clone
    /// of it, in the writers' turn when the WAL has grown past `restart_after_frames` (see
    /// [`crate::write_gate`]).
    pub(crate) fn with_checkpointer(
        mut self,
        pool: sqlx::SqlitePool,
        restart_after_frames: i64,
    ) -> Self {
        let checkpointer = spawn_checkpointer(pool, self.gate.clone(), restart_after_frames);
        self.checkpointer = Some(Arc::new(checkpointer));
        self
    }

    /// Reads access tokens (and their users) on the calling thread from the database file at
    /// `path` (not an in-memory database), falling back to sqlx ([`crate::direct_read`]).
    pub(crate) fn with_direct_reads(mut self, path: std::path::PathBuf) -> Self {
        let reads = <sqlx::Sqlite as TokenReadBackend>::token_reads(self.pool.clone());
        self.reads = Arc::new(reads.with_direct(crate::direct_read::DirectReader::new(path)));
        self
    }
}

impl<DB: sqlx::Database> SqlStore<DB> {
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// The batching writer's pool (the same as [`SqlStore::pool`] unless the store was built
    /// with its own; fault-injection tests reach the writer's connection through it).
    pub fn writer_pool(&self) -> &sqlx::Pool<DB> {
        self.writer.pool()
    }

    pub(crate) fn writer(&self) -> &GroupCommit<sqlx::Pool<DB>> {
        &self.writer
    }

    /// This node's queue for SQLite's write lock: hot writes outside the batching writer take
    /// their turn here first (see [`crate::write_gate`]).
    pub(crate) fn gate(&self) -> &WriteGate {
        &self.gate
    }
}

impl<DB: sqlx::Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            reads: self.reads.clone(),
            gate: self.gate.clone(),
            checkpointer: self.checkpointer.clone(),
        }
    }
}

impl<DB: sqlx::Database> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &DB::NAME)
            .finish_non_exhaustive()
    }
}

fn limit(page: Page<'_>) -> i64 {
    i64::from(page.limit)
}

/// `NotFound` when an update touched no row.
fn require_row(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A `LIKE` pattern matching `value` literally (escape character `\`).
fn like_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
