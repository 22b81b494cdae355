//! Group commit for the records every token response writes (grants, access- and refresh-token
//! records, System Log events).
//!
//! A durable commit costs an fsync on SQLite and a round trip plus a WAL flush on PostgreSQL,
//! far more than the rows themselves. Each node runs one writer task: callers queue their
//! writes and wait; the writer takes whatever is queued (up to [`MAX_BATCH_JOBS`]), writes it
//! all in ONE transaction, and only then tells each caller, so a response still goes out only
//! after its records are committed. On SQLite (one writer at a time) the next batch starts as
//! soon as the previous one commits; on PostgreSQL a few batches may be committing at once, each
//! on its own connection. A lone request is written at once, without waiting for company.
//!
//! Each job (the writes of one call) is all or nothing. If a batch fails (a conflict, such as
//! a grant revoked before it was stored), it is rolled back and its jobs are written again one
//! by one, so each caller gets its own outcome and one bad job never fails the others.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use gatehouse_core::domain::{AccessTokenRecord, Grant, LogEventRecord, RefreshToken};
use gatehouse_core::store::{Claim, StoreError, StoreResult};
use sqlx::QueryBuilder;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::error::db_err;
use crate::rows::to_json;
use crate::write_gate::WriteGate;

/// Jobs written per transaction, at most.
pub(crate) const MAX_BATCH_JOBS: usize = 64;
/// Jobs waiting for the writer before callers wait to queue theirs.
const QUEUE_CAPACITY: usize = 1024;

/// One row to insert.
#[derive(Debug, Clone)]
pub(crate) enum WriteOp {
    Grant(Grant),
    AccessToken(AccessTokenRecord),
    RefreshToken(RefreshToken),
    /// A static refresh token's new expiry (its idle window restarted). The token must exist.
    RefreshExpiry {
        token_hash: String,
        expires_at: i64,
    },
    LogEvent(LogEventRecord),
    /// Marks an authorization code used, if it is unused and unexpired; otherwise the job fails
    /// with `Conflict { constraint: "used_at" }`.
    RedeemCode {
        code_hash: String,
        now: i64,
    },
    /// Marks a refresh token rotated, if it is not and neither it nor its grant is revoked;
    /// otherwise the job fails with `Conflict { constraint: "rotated_at" }`.
    MarkRotated {
        token_hash: String,
        now: i64,
    },
}

struct Job {
    ops: Vec<WriteOp>,
    done: oneshot::Sender<StoreResult<()>>,
}

/// Writes rows of several jobs in one transaction.
#[async_trait]
pub(crate) trait WriteBatch: Clone + Send + Sync + 'static {
    /// Inserts every row in one transaction (grants first, so tokens may name a grant of the
    /// same batch): all or nothing.
    async fn write_batch(&self, ops: &[&WriteOp]) -> StoreResult<()>;

    /// Batches that may be committing at once. One for SQLite, which has one writer anyway (a
    /// second transaction would only wait on the database lock); more where commits of
    /// several connections overlap (PostgreSQL), so a batch fills while the last one commits.
    fn max_in_flight(&self) -> usize {
        1
    }
}

/// A node's batching writer over one pool. The task starts with the first write (inside the
/// runtime that makes it) and ends when the last handle is dropped.
pub(crate) struct GroupCommit<P> {
    pool: P,
    /// Taken for each transaction (SQLite: in turn with the node's other writers).
    gate: WriteGate,
    queue: OnceLock<Option<mpsc::Sender<Job>>>,
}

impl<P> GroupCommit<P> {
    #[cfg(test)]
    pub(crate) fn new(pool: P) -> Self {
        Self::with_gate(pool, WriteGate::default())
    }

    pub(crate) fn with_gate(pool: P, gate: WriteGate) -> Self {
        Self {
            pool,
            gate,
            queue: OnceLock::new(),
        }
    }
}

impl<P> GroupCommit<P> {
    pub(crate) fn pool(&self) -> &P {
        &self.pool
    }
}

impl<P: WriteBatch> GroupCommit<P> {
    /// Writes `ops` (all or nothing) in the next batch; returns once they are committed.
    pub(crate) async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let Some(queue) = self.queue() else {
            let _turn = self.gate.enter().await;
            return self.pool.write_batch(&ops.iter().collect::<Vec<_>>()).await;
        };
        let (done, outcome) = oneshot::channel();
        match queue.send(Job { ops, done }).await {
            Ok(()) => outcome.await.unwrap_or_else(|_| {
                Err(StoreError::Backend(
                    "the batching writer stopped before this write was committed".into(),
                ))
            }),
            // The writer's runtime is gone (a test that built the store in another runtime):
            // write directly.
            Err(mpsc::error::SendError(job)) => {
                let _turn = self.gate.enter().await;
                self.pool
                    .write_batch(&job.ops.iter().collect::<Vec<_>>())
                    .await
            }
        }
    }

    fn queue(&self) -> Option<&mpsc::Sender<Job>> {
        self.queue
            .get_or_init(|| {
                let runtime = tokio::runtime::Handle::try_current().ok()?;
                let (queue, jobs) = mpsc::channel(QUEUE_CAPACITY);
                runtime.spawn(run(self.pool.clone(), self.gate.clone(), jobs));
                Some(queue)
            })
            .as_ref()
    }
}

async fn run<P: WriteBatch>(pool: P, gate: WriteGate, mut jobs: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(pool.max_in_flight().max(1)));
    loop {
        // Wait for a free slot first: jobs queue up meanwhile and go in the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH_JOBS);
        if jobs.recv_many(&mut batch, MAX_BATCH_JOBS).await == 0 {
            return;
        }
        // Let the requests that are ready to run get to their write first: each runs to its
        // next await, which for a token response is this queue. On a busy core (RS256
        // signing) this turns a stream of one- and two-job commits, each paying a whole fsync
        // and the pages every commit rewrites, into one commit of everything in progress. A
        // lone request waits only for the yield itself.
        if batch.len() < MAX_BATCH_JOBS {
            tokio::task::yield_now().await;
            while batch.len() < MAX_BATCH_JOBS {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        if pool.max_in_flight() <= 1 {
            // One batch at a time: no task to spawn.
            commit(&pool, &gate, batch).await;
            drop(slot);
        } else {
            let pool = pool.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                commit(&pool, &gate, batch).await;
                drop(slot);
            });
        }
    }
}

/// Writes one batch and answers each of its callers.
async fn commit<P: WriteBatch>(pool: &P, gate: &WriteGate, mut batch: Vec<Job>) {
    let ops: Vec<&WriteOp> = batch.iter().flat_map(|j| &j.ops).collect();
    metrics::histogram!("gatehouse_store_group_commit_batch_size").record(batch.len() as f64);
    let turn = gate.enter().await;
    let outcome = pool.write_batch(&ops).await;
    drop(turn);
    drop(ops);
    match outcome {
        Ok(()) => {
            for job in batch.drain(..) {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(job) = batch.pop() {
                let _ = job.done.send(Err(e));
            }
        }
        Err(_) => {
            tracing::debug!(
                jobs = batch.len(),
                "batched write failed; writing its jobs one by one"
            );
            for job in batch.drain(..) {
                let _turn = gate.enter().await;
                let outcome = pool.write_batch(&job.ops.iter().collect::<Vec<_>>()).await;
                let _ = job.done.send(outcome);
            }
        }
    }
}

/// The rows of `ops` of one kind, in order.
fn rows<'a, T>(ops: &[&'a WriteOp], pick: fn(&'a WriteOp) -> Option<&'a T>) -> Vec<&'a T> {
    ops.iter().filter_map(|&op| pick(op)).collect()
}

fn pick_grants<'a>(ops: &[&'a WriteOp]) -> Vec<&'a Grant> {
    rows(ops, |op| match op {
        WriteOp::Grant(g) => Some(g),
        _ => None,
    })
}

fn pick_access_tokens<'a>(ops: &[&'a WriteOp]) -> Vec<&'a AccessTokenRecord> {
    rows(ops, |op| match op {
        WriteOp::AccessToken(t) => Some(t),
        _ => None,
    })
}

fn pick_refresh_tokens<'a>(ops: &[&'a WriteOp]) -> Vec<&'a RefreshToken> {
    rows(ops, |op| match op {
        WriteOp::RefreshToken(t) => Some(t),
        _ => None,
    })
}

fn pick_log_events<'a>(ops: &[&'a WriteOp]) -> Vec<&'a LogEventRecord> {
    rows(ops, |op| match op {
        WriteOp::LogEvent(e) => Some(e),
        _ => None,
    })
}

/// The static refresh tokens' new expiries of a batch, each token once with the expiry of its
/// last job (what the jobs' updates one after the other would leave): the bench's refresh
/// row, like a client refreshing from several tabs, has one token in every job of a batch,
/// and an `UPDATE … FROM (VALUES …)` changes a row once however many values match it.
fn refresh_expiries<'a>(ops: &[&'a WriteOp]) -> Vec<(&'a String, i64)> {
    let mut out: Vec<(&'a String, i64)> = Vec::new();
    for op in ops {
        if let WriteOp::RefreshExpiry {
            token_hash,
            expires_at,
        } = op
        {
            match out.iter_mut().find(|(hash, _)| *hash == token_hash) {
                Some(seen) => seen.1 = *expires_at,
                None => out.push((token_hash, *expires_at)),
            }
        }
    }
    out
}

/// How a batch's code claims end (`UPDATE … SET used_at = v.column2 FROM (VALUES …`): only an
/// unused, unexpired code is claimed.
const CODE_CLAIM_TAIL: &str = ") AS v WHERE auth_codes.code_hash = v.column1 \
    AND auth_codes.used_at IS NULL AND auth_codes.expires_at > v.column2";
/// How a batch's rotation claims end: only a token not rotated, not revoked, of a grant not
/// revoked, is claimed.
const ROTATION_CLAIM_TAIL: &str = ") AS v WHERE refresh_tokens.token_hash = v.column1 \
    AND refresh_tokens.rotated_at IS NULL AND refresh_tokens.revoked_at IS NULL \
    AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id \
    AND g.revoked_at IS NOT NULL)";
/// How a batch's static refresh-token expiry update ends.
const EXPIRY_UPDATE_TAIL: &str = ") AS v WHERE refresh_tokens.token_hash = v.column1";

/// `head` (ending in `FROM (VALUES `), one `(key, value)` row per pair of `chunk`, then `tail`
/// (from `) AS v WHERE …`): the claims' and expiries' statement, on both backends.
fn keyed_values_update<'a, DB: sqlx::Database>(
    head: &str,
    chunk: &'a [(&'a String, i64)],
    tail: &str,
) -> QueryBuilder<'a, DB>
where
    &'a String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(head);
    let mut rows = q.separated(", ");
    for (key, value) in chunk {
        rows.push("(")
            .push_bind_unseparated(*key)
            .push_unseparated(", ")
            .push_bind_unseparated(*value)
            .push_unseparated(")");
    }
    q.push(tail);
    q
}

/// Rows per statement, at most (a power of two, well under SQLite's and PostgreSQL's limits
/// on bound values).
const CACHED_ROWS_PER_STATEMENT: usize = 64;

/// `rows` in chunks whose lengths are powers of two (largest first, at most
/// [`CACHED_ROWS_PER_STATEMENT`]): a multi-row `INSERT` of each length is one cached statement,
/// so a connection prepares at most seven of them instead of one per batch (parsing the
/// statement cost SQLite about as much as inserting its rows; PostgreSQL plans it once too).
fn cached_chunks<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let len = rows.len().min(CACHED_ROWS_PER_STATEMENT);
        // The largest power of two not above `len` (`len` >= 1).
        let take = 1usize << (usize::BITS - 1 - len.leading_zeros());
        let (chunk, rest) = rows.split_at(take);
        rows = rest;
        Some(chunk)
    })
}

/// `system_log.target_ids`: every id with a space at each end (`" id1 id2 "`).
fn target_ids_column(ids: &[String]) -> String {
    let mut s = String::from(" ");
    for id in ids {
        // Ids never hold spaces; one that did would only fail to match.
        s.push_str(&id.replace(' ', "_"));
        s.push(' ');
    }
    s
}

/// `(uuid, target id)` of every event's targets, each pair once (the table's primary key).
fn event_targets<'a>(events: &[(&'a LogEventRecord, String)]) -> Vec<(&'a String, &'a String)> {
    let mut out = Vec::new();
    for (e, _) in events {
        let e: &'a LogEventRecord = e;
        let mut seen: Vec<&String> = Vec::new();
        for id in &e.target_ids {
            if !id.is_empty() && !seen.contains(&id) {
                seen.push(id);
                out.push((&e.uuid, id));
            }
        }
    }
    out
}

macro_rules! impl_write_batch {
    ($db:ty, $in_flight:expr, $or_fail:literal) => {
        #[async_trait]
        impl WriteBatch for sqlx::Pool<$db> {
            fn max_in_flight(&self) -> usize {
                $in_flight
            }

            async fn write_batch(&self, ops: &[&WriteOp]) -> StoreResult<()> {
                // JSON and derived columns first, so that no error can leave a transaction open.
                let grants: Vec<(&Grant, String, String)> = pick_grants(ops)
                    .into_iter()
                    .map(|g| Ok((g, to_json(&g.scopes)?, to_json(&g.amr)?)))
                    .collect::<StoreResult<_>>()?;
                let access = pick_access_tokens(ops);
                let refresh: Vec<(&RefreshToken, String)> = pick_refresh_tokens(ops)
                    .into_iter()
                    .map(|t| Ok((t, to_json(&t.scopes)?)))
                    .collect::<StoreResult<_>>()?;
                let expiries = refresh_expiries(ops);
                let events: Vec<(&LogEventRecord, String)> = pick_log_events(ops)
                    .into_iter()
                    .map(|e| (e, target_ids_column(&e.target_ids)))
                    .collect();

                let codes: Vec<(&String, i64)> = ops
                    .iter()
                    .filter_map(|op| match op {
                        WriteOp::RedeemCode { code_hash, now } => Some((code_hash, *now)),
                        _ => None,
                    })
                    .collect();
                let rotations: Vec<(&String, i64)> = ops
                    .iter()
                    .filter_map(|op| match op {
                        WriteOp::MarkRotated { token_hash, now } => Some((token_hash, *now)),
                        _ => None,
                    })
                    .collect();

                let mut tx = self.begin().await.map_err(db_err)?;
                // Claims first: the first statement takes SQLite's write lock, and on
                // PostgreSQL the row lock makes a concurrent claim of the same row wait for
                // this transaction's outcome (then find it taken). One statement per kind
                // claims the whole batch's (each with its own time, `v.column2`): if it
                // changes fewer rows than there are claims, one was lost (a spent code, or
                // the same code twice in this batch, which changes its row once) and the
                // batch fails, to be written again job by job.
                for (claims, head, tail, lost) in [
                    (
                        &codes,
                        concat!(
                            "UPDATE ",
                            $or_fail,
                            "auth_codes SET used_at = v.column2 FROM (VALUES "
                        ),
                        CODE_CLAIM_TAIL,
                        Claim::CODE_USED,
                    ),
                    (
                        &rotations,
                        concat!(
                            "UPDATE ",
                            $or_fail,
                            "refresh_tokens SET rotated_at = v.column2 FROM (VALUES "
                        ),
                        ROTATION_CLAIM_TAIL,
                        Claim::TOKEN_ROTATED,
                    ),
                ] {
                    for chunk in cached_chunks(claims) {
                        let mut q = keyed_values_update::<$db>(head, chunk, tail);
                        let done = q.build().execute(&mut *tx).await.map_err(db_err)?;
                        if done.rows_affected() < chunk.len() as u64 {
                            // Dropping the transaction rolls it back.
                            return Err(StoreError::Conflict {
                                constraint: lost.into(),
                            });
                        }
                    }
                }
                // Every statement of a batch is cached (prepared once per connection), one per
                // power-of-two row count (see `cached_chunks`): parsing a multi-row statement
                // cost SQLite about as much as writing its rows.
                for chunk in cached_chunks(&grants) {
                    let mut q = QueryBuilder::<$db>::new(concat!(
                        "INSERT ",
                        $or_fail,
                        "INTO grants (id, client_id, user_id, auth_server_id, scopes, \
                             auth_time, amr, created, revoked_at, acr) "
                    ));
                    q.push_values(chunk, |mut b, (g, scopes, amr)| {
                        b.push_bind(&g.id)
                            .push_bind(&g.client_id)
                            .push_bind(&g.user_id)
                            .push_bind(&g.auth_server_id)
                            .push_bind(scopes)
                            .push_bind(g.auth_time)
                            .push_bind(amr)
                            .push_bind(g.created)
                            .push_bind(g.revoked_at)
                            .push_bind(&g.acr);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                for chunk in cached_chunks(&access) {
                    let mut q = QueryBuilder::<$db>::new(concat!(
                        "INSERT ",
                        $or_fail,
                        "INTO access_tokens (jti, grant_id, client_id, expires_at, \
                             revoked_at) "
                    ));
                    q.push_values(chunk, |mut b, t| {
                        b.push_bind(&t.jti)
                            .push_bind(&t.grant_id)
                            .push_bind(&t.client_id)
                            .push_bind(t.expires_at)
                            .push_bind(t.revoked_at);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                for chunk in cached_chunks(&refresh) {
                    let mut q = QueryBuilder::<$db>::new(concat!(
                        "INSERT ",
                        $or_fail,
                        "INTO refresh_tokens (token_hash, grant_id, client_id, scopes, \
                             created, expires_at, rotated_at, revoked_at) "
                    ));
                    q.push_values(chunk, |mut b, (t, scopes)| {
                        b.push_bind(&t.token_hash)
                            .push_bind(&t.grant_id)
                            .push_bind(&t.client_id)
                            .push_bind(scopes)
                            .push_bind(t.created)
                            .push_bind(t.expires_at)
                            .push_bind(t.rotated_at)
                            .push_bind(t.revoked_at);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                // Static refresh tokens' new expiries: one statement per chunk, each token once
                // (`refresh_expiries`). One that is gone changes no row: the batch fails, and
                // its jobs are written again one by one, that one failing alone.
                for chunk in cached_chunks(&expiries) {
                    let mut q = keyed_values_update::<$db>(
                        concat!(
                            "UPDATE ",
                            $or_fail,
                            "refresh_tokens SET expires_at = v.column2 FROM (VALUES "
                        ),
                        chunk,
                        EXPIRY_UPDATE_TAIL,
                    );
                    let done = q.build().execute(&mut *tx).await.map_err(db_err)?;
                    if done.rows_affected() < chunk.len() as u64 {
                        // Dropping the transaction rolls it back.
                        return Err(StoreError::NotFound);
                    }
                }
                // Events are on every token response: their statements are cached (prepared
                // once per connection), one per power-of-two row count (see `cached_chunks`).
                for chunk in cached_chunks(&events) {
                    let mut q = QueryBuilder::<$db>::new(concat!(
                        "INSERT ",
                        $or_fail,
                        "INTO system_log (uuid, published_ms, event_type, severity, \
                             outcome_result, actor_id, actor_alternate_id, target_ids, \
                             search_text, body) "
                    ));
                    q.push_values(chunk, |mut b, (e, target_ids)| {
                        b.push_bind(&e.uuid)
                            .push_bind(e.published_ms)
                            .push_bind(&e.event_type)
                            .push_bind(&e.severity)
                            .push_bind(&e.outcome_result)
                            .push_bind(&e.actor_id)
                            .push_bind(&e.actor_alternate_id)
                            .push_bind(target_ids)
                            .push_bind(&e.search_text)
                            .push_bind(&e.body);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                // Each event's targets, found by the uuid just written (a multi-row INSERT's
                // RETURNING has no guaranteed order), in the same transaction.
                let targets = event_targets(&events);
                for chunk in cached_chunks(&targets) {
                    let mut q = QueryBuilder::<$db>::new(concat!(
                        "INSERT ",
                        $or_fail,
                        "INTO system_log_targets (event_seq, target_id, \
                             event_published_ms) SELECT system_log.seq, v.column2, \
                             system_log.published_ms FROM (VALUES "
                    ));
                    let mut rows = q.separated(", ");
                    for (uuid, target) in chunk {
                        rows.push("(")
                            .push_bind_unseparated(*uuid)
                            .push_unseparated(", ")
                            .push_bind_unseparated(*target)
                            .push_unseparated(")");
                    }
                    q.push(") AS v JOIN system_log ON system_log.uuid = v.column1");
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }
        }
    };
}

// SQLite: `OR FAIL`. A multi-row statement that may fail with SQLite's default `ABORT` must
// be undoable on its own, so SQLite copies every existing page it changes into a statement
// journal first: beyond 64 KiB (most batches) a temporary file, created, written page by page
// and deleted for each batch, as many writes as the WAL's (strace of refresh with rotation). A
// failed batch statement never needs undoing on its own: its error drops (rolls back) the
// whole transaction, whose jobs are then written one by one. `FAIL` stops the statement and
// leaves what it did to that rollback, with the same constraint error; no statement journal.
// (PostgreSQL has no such clause and needs none.) The targets' insert still keeps one for its
// foreign key, over the few pages it changes (in memory).
impl_write_batch!(sqlx::Sqlite, 1, "OR FAIL ");

// PostgreSQL writes a batch's rows in one statement of its own.
mod postgres;

#[cfg(test)]
mod tests;
