//! Read batching (the dataloader pattern) for the lookups every protected request makes: the
//! access token's record (is it revoked?) and, for userinfo and a user's token, its user.
//!
//! One such read is cheap for the database but not for the node: on SQLite sqlx runs each
//! connection on a thread of its own, so every query hands the CPU to that thread and back
//! (~3.8 context switches, ~39% of the CPU of an introspection); on PostgreSQL every query is a
//! round trip plus the backend's own CPU. Here concurrent lookups share ONE query: a caller
//! queues its key and waits; a batch task takes everything queued (up to [`MAX_BATCH_KEYS`]),
//! reads it with one `IN (…)` / `= ANY(…)` query and answers each caller. When no batch is
//! running the caller's key goes at once (no waiting for company); under load, keys queue while
//! a batch runs and go together in the next one.
//!
//! Freshness: a key joins only a batch that has not started its query yet, never the answer of
//! one already running. A lookup that starts after a revocation committed is therefore read by
//! a query that starts after it too, and sees it: batching adds no cache and no staleness.
//!
//! Cancellation: a caller that stops waiting only drops its receiver; its key is skipped if its
//! batch has not started, and the batch task (spawned, not run by any caller) carries on for
//! the others. A failed query fails every caller of that batch, each with its own copy of the
//! error.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use gatehouse_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

/// Distinct keys read per query, at most (well under both databases' limits on a query).
pub(crate) const MAX_BATCH_KEYS: usize = 64;

/// Reads many keys in one query.
#[async_trait]
pub(crate) trait BatchLoad<K, V>: Send + Sync + 'static {
    /// The values of `keys` (distinct, at most [`MAX_BATCH_KEYS`]); a key not found is absent.
    async fn load(&self, keys: &[K]) -> StoreResult<HashMap<K, V>>;
}

type Answer<V> = oneshot::Sender<StoreResult<Option<V>>>;

struct State<K, V> {
    /// Keys waiting for the next batch, oldest first, each with its caller.
    pending: Vec<(K, Answer<V>)>,
    /// Batch tasks running.
    running: usize,
}

struct Inner<K, V> {
    loader: Box<dyn BatchLoad<K, V>>,
    /// Batches whose queries may run at once: 1 where queries would only queue for the same
    /// resource (SQLite on one core), a few where the database works beside the node.
    max_running: usize,
    state: Mutex<State<K, V>>,
}

impl<K, V> Inner<K, V> {
    /// The state; a panic elsewhere while it was held (none can: no code in these sections
    /// panics) leaves it consistent, so a poisoned lock is used as is.
    fn state(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Coalesces concurrent lookups of one kind into batched queries (see the module docs).
pub(crate) struct ReadBatcher<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> ReadBatcher<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    pub(crate) fn new(loader: impl BatchLoad<K, V>, max_running: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                loader: Box::new(loader),
                max_running: max_running.max(1),
                state: Mutex::new(State {
                    pending: Vec::new(),
                    running: 0,
                }),
            }),
        }
    }

    /// The value of `key`, read by a query that starts after this call.
    pub(crate) async fn load(&self, key: K) -> StoreResult<Option<V>> {
        let mut values = self.load_many(vec![key]).await;
        values.pop().unwrap_or_else(|| Err(stopped()))
    }

    /// The values of `keys`, in their order, each read by a query that starts after this call.
    /// The keys are queued together, so one caller's keys go in one batch (unless it is full).
    pub(crate) async fn load_many(&self, keys: Vec<K>) -> Vec<StoreResult<Option<V>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let mut outcomes = Vec::with_capacity(keys.len());
        let start = {
            let mut state = self.inner.state();
            for key in keys {
                let (answer, outcome) = oneshot::channel();
                state.pending.push((key, answer));
                outcomes.push(outcome);
            }
            let start = state.running < self.inner.max_running;
            if start {
                state.running += 1;
            }
            start
        };
        if start {
            // A task of its own, so a caller that goes away cannot strand the others' answers.
            tokio::spawn(run(self.inner.clone()));
        }
        let mut values = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            values.push(outcome.await.unwrap_or_else(|_| Err(stopped())));
        }
        values
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the batched read stopped before this lookup was answered".into())
}

/// A batch task: reads batches until nothing is queued.
async fn run<K, V>(inner: Arc<Inner<K, V>>)
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    let mut running = Running {
        inner: &inner,
        finished: false,
    };
    loop {
        let batch = {
            let mut state = inner.state();
            // Callers that stopped waiting are not read for.
            state.pending.retain(|(_, answer)| !answer.is_closed());
            if state.pending.is_empty() {
                // Decided under the lock: a key queued after this starts a task of its own.
                state.running = state.running.saturating_sub(1);
                running.finished = true;
                return;
            }
            let n = state.pending.len().min(MAX_BATCH_KEYS);
            state.pending.drain(..n).collect::<Vec<_>>()
        };
        answer(&*inner.loader, batch).await;
    }
}

/// Reads one batch and answers each of its callers.
async fn answer<K, V>(loader: &dyn BatchLoad<K, V>, batch: Vec<(K, Answer<V>)>)
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    let mut seen = HashSet::with_capacity(batch.len());
    let keys: Vec<K> = batch
        .iter()
        .filter(|(key, _)| seen.insert(key))
        .map(|(key, _)| key.clone())
        .collect();
    drop(seen);
    metrics::histogram!("gatehouse_store_read_batch_keys").record(keys.len() as f64);
    match loader.load(&keys).await {
        Ok(found) => {
            for (key, answer) in batch {
                let _ = answer.send(Ok(found.get(&key).cloned()));
            }
        }
        Err(e) => {
            tracing::debug!(keys = keys.len(), error = %e, "batched read failed");
            for (_, answer) in batch {
                let _ = answer.send(Err(copy_error(&e)));
            }
        }
    }
}

/// A batch task's place in `running`, given back however the task ends. Ending normally, it is
/// given back under the lock that saw the queue empty; dropped early (its runtime shutting
/// down, or a panic in a query), the callers still queued are answered with an error rather
/// than left waiting for a task that will not come.
struct Running<'a, K, V> {
    inner: &'a Inner<K, V>,
    finished: bool,
}

impl<K, V> Drop for Running<'_, K, V> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let stranded = {
            let mut state = self.inner.state();
            state.running = state.running.saturating_sub(1);
            std::mem::take(&mut state.pending)
        };
        // Dropping the senders answers their callers (with an error), outside the lock.
        drop(stranded);
    }
}

/// The error of a failed batch, for one of its callers (`StoreError` is not `Clone`): same kind
/// (so an unreachable database still answers 503), same message.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict { constraint } => StoreError::Conflict {
            constraint: constraint.clone(),
        },
        StoreError::Unavailable(u) => StoreError::unavailable(u.0.to_string()),
        StoreError::Backend(b) => StoreError::Backend(b.to_string().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Squares even keys after a short pause, counting queries; odd keys are missing; key 13
    /// fails its whole batch.
    struct Squares {
        queries: Arc<AtomicUsize>,
        largest: Arc<AtomicUsize>,
        duplicates: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl BatchLoad<u32, u64> for Squares {
        async fn load(&self, keys: &[u32]) -> StoreResult<HashMap<u32, u64>> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.largest.fetch_max(keys.len(), Ordering::SeqCst);
            let distinct: HashSet<_> = keys.iter().collect();
            self.duplicates
                .fetch_add(keys.len() - distinct.len(), Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            if keys.contains(&13) {
                return Err(StoreError::unavailable("down"));
            }
            Ok(keys
                .iter()
                .filter(|k| k.is_multiple_of(2))
                .map(|&k| (k, u64::from(k) * u64::from(k)))
                .collect())
        }
    }

    struct Counters {
        queries: Arc<AtomicUsize>,
        largest: Arc<AtomicUsize>,
        duplicates: Arc<AtomicUsize>,
    }

    fn batcher(max_running: usize) -> (Arc<ReadBatcher<u32, u64>>, Counters) {
        let counters = Counters {
            queries: Arc::new(AtomicUsize::new(0)),
            largest: Arc::new(AtomicUsize::new(0)),
            duplicates: Arc::new(AtomicUsize::new(0)),
        };
        let loader = Squares {
            queries: counters.queries.clone(),
            largest: counters.largest.clone(),
            duplicates: counters.duplicates.clone(),
        };
        (Arc::new(ReadBatcher::new(loader, max_running)), counters)
    }

    fn square(k: u32) -> Option<u64> {
        k.is_multiple_of(2).then(|| u64::from(k) * u64::from(k))
    }

    /// Waits (briefly) for the batch tasks to finish; true once none runs and none is queued.
    async fn settled(b: &ReadBatcher<u32, u64>) -> bool {
        for _ in 0..200 {
            {
                let state = b.inner.state();
                if state.running == 0 && state.pending.is_empty() {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    #[tokio::test]
    async fn concurrent_lookups_share_queries_and_each_gets_its_own_answer() {
        for max_running in [1, 3] {
            let (b, counters) = batcher(max_running);
            let mut tasks = Vec::new();
            for i in 0..500u32 {
                let b = b.clone();
                // Duplicates too (i % 200): each caller of a key gets its value.
                let k = i % 200 * 2 + i % 2;
                tasks.push(tokio::spawn(async move { (k, b.load(k).await.ok()) }));
            }
            for task in tasks {
                let got = task.await.ok();
                assert!(
                    matches!(got, Some((k, Some(v))) if v == square(k)),
                    "{got:?}"
                );
            }
            let n = counters.queries.load(Ordering::SeqCst);
            assert!(n < 500 / 4, "{n} queries for 500 lookups");
            assert!(counters.largest.load(Ordering::SeqCst) <= MAX_BATCH_KEYS);
            assert_eq!(counters.duplicates.load(Ordering::SeqCst), 0);
            assert!(settled(&b).await);
        }
    }

    #[tokio::test]
    async fn a_lone_lookup_is_read_at_once() {
        let (b, counters) = batcher(1);
        let started = std::time::Instant::now();
        assert_eq!(b.load(4).await.ok().flatten(), Some(16));
        assert_eq!(b.load(5).await.ok().flatten(), None);
        assert_eq!(counters.queries.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_callers_and_not_the_next() {
        let (b, _) = batcher(1);
        // A batch running (key 0) makes 13 and 2 queue together.
        let first = tokio::spawn({
            let b = b.clone();
            async move { b.load(0).await.ok() }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let (x, y) = tokio::join!(b.load(13), b.load(2));
        assert!(
            matches!(
                (&x, &y),
                (
                    Err(StoreError::Unavailable(_)),
                    Err(StoreError::Unavailable(_))
                )
            ),
            "{x:?} {y:?}"
        );
        assert!(matches!(first.await, Ok(Some(Some(0)))));
        assert_eq!(b.load(2).await.ok().flatten(), Some(4));
        assert!(settled(&b).await);
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_does_not_stop_the_others() {
        let (b, _) = batcher(1);
        let gone = tokio::time::timeout(Duration::from_micros(1), b.load(6)).await;
        assert!(gone.is_err() || matches!(gone, Ok(Ok(Some(36)))));
        let mut tasks = Vec::new();
        for k in 0..20u32 {
            let b = b.clone();
            tasks.push(tokio::spawn(async move { b.load(k * 2).await.ok() }));
        }
        for (k, task) in (0..20u64).zip(tasks) {
            assert_eq!(task.await.ok().flatten().flatten(), Some(4 * k * k));
        }
        assert!(settled(&b).await);
    }
}
