//! Every node follows the database's change feed and forgets its cached copy of what another
//! node changed: clients, authorization servers (their configuration and signing keys) and
//! trusted origins.
//!
//! On PostgreSQL the database itself notifies, from triggers, when a change commits, so a
//! change made anywhere (a node, the CLI) reaches every listening node within milliseconds.
//! Worst case: when a node's listening connection drops, notifications sent until it listens
//! again are lost; it reconnects at once (then every second while the database is out of
//! reach) and forgets everything once it listens again. Should the follower itself stall, the
//! caches still expire by their TTLs (clients 5 s, servers and their configuration 10 s, keys
//! 30 s). A token signed with a key another node does not know yet also makes that node re-read
//! its keys (at most once a second per server). SQLite serves one node and has no feed.

use std::sync::Arc;
use std::time::Duration;

use crate::provider::Provider;
use crate::store::Change;

/// How long to wait before asking for a feed again after the database refused one.
const RETRY: Duration = Duration::from_secs(5);

/// Applies every change of the feed to `provider`'s caches, until the task is dropped. Returns
/// at once when the backend has no feed.
pub async fn follow_changes(provider: Arc<Provider>) {
    loop {
        let mut feed = match provider.store.change_feed().await {
            Ok(Some(feed)) => feed,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for configuration changes; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // What was cached before the feed started may be stale already.
        provider.apply_change(&Change::All);
        loop {
            let change = feed.next().await;
            tracing::debug!(?change, "configuration changed");
            provider.apply_change(&change);
        }
    }
}
