//! The scheduled import in `serve`: every `sync_interval_seconds` one round, on one node at a
//! time (each round first takes the [`LEASE`] in the store, in one statement).
//! A round is the full import when the last one finished at least `full_sync_interval_seconds`
//! ago (or there was none), else the incremental one.

use crate::provider::Provider;

use super::incremental::incremental_sync;
use super::source::SOURCE;
use super::sync::{SyncError, SyncReport, full_sync};

/// The store lease that one node at a time holds to run the scheduled import.
pub const LEASE: &str = "ldap-sync";
/// How long a running round holds the lease: longer than an import should take, so no other
/// node starts one alongside; a node that dies mid-round keeps the others waiting this long.
const RUNNING_TTL_SECONDS: i64 = 900;

/// How often the rounds run, and how often a round is a full import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub interval_seconds: i64,
    /// 0 or at most `interval_seconds`: every round is a full import.
    pub full_interval_seconds: i64,
}

impl Schedule {
    /// Whether a round at `now` is a full import, the last having started at `last_full`.
    /// Half a round of slack, so a full import due between two rounds runs at the nearer.
    pub fn full_due(&self, last_full: Option<i64>, now: i64) -> bool {
        match last_full {
            None => true,
            Some(at) => {
                now.saturating_sub(at) + self.interval_seconds / 2 >= self.full_interval_seconds
            }
        }
    }
}

/// One round: runs an import if this node (`holder`) gets the lease for the next interval;
/// `Ok(None)` when another node has it.
pub async fn scheduled_round(
    provider: &Provider,
    holder: &str,
    schedule: Schedule,
) -> Result<Option<SyncReport>, SyncError> {
    // While the round runs the lease covers it (rounds may be shorter than an import);
    // afterwards a little less than the interval, so any node's next round finds it free.
    let ttl = (schedule.interval_seconds - 1).max(1);
    if !provider
        .store
        .acquire_lease(LEASE, holder, provider.now(), ttl.max(RUNNING_TTL_SECONDS))
        .await?
    {
        return Ok(None);
    }
    let result = run_round(provider, schedule).await;
    provider
        .store
        .acquire_lease(LEASE, holder, provider.now(), ttl)
        .await?;
    result.map(Some)
}

async fn run_round(provider: &Provider, schedule: Schedule) -> Result<SyncReport, SyncError> {
    let last_full = provider
        .store
        .sync_mark(SOURCE)
        .await?
        .and_then(|m| m.full_sync_at);
    if schedule.full_due(last_full, provider.now()) {
        full_sync(provider).await
    } else {
        incremental_sync(provider).await
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    #[test]
    fn full_imports_come_every_full_interval() {
        let s = Schedule {
            interval_seconds: 60,
            full_interval_seconds: 3600,
        };
        assert!(s.full_due(None, 1000));
        assert!(!s.full_due(Some(1000), 1060));
        assert!(!s.full_due(Some(1000), 4569));
        assert!(s.full_due(Some(1000), 4570));
        let every = Schedule {
            interval_seconds: 60,
            full_interval_seconds: 0,
        };
        assert!(every.full_due(Some(1000), 1000));
    }
}
