//! [`ChangeStore`]: PostgreSQL notifies every node of configuration changes as they commit
//! (triggers of migration 0020 `NOTIFY gatehouse_changes`); each node LISTENs on a connection of
//! its own. SQLite serves one node: no feed.

use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::store::{Change, ChangeFeed, ChangeStore, StoreResult};
use sqlx::postgres::PgListener;

use crate::error::db_err;
use crate::sql::SqlStore;

/// The channel the triggers notify.
const CHANNEL: &str = "gatehouse_changes";
/// Pause after the listener failed to reconnect (the database is down), before trying again.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

struct PgChangeFeed {
    listener: PgListener,
}

#[async_trait]
impl ChangeFeed for PgChangeFeed {
    async fn next(&mut self) -> Change {
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = Change::from_payload(notification.payload()) {
                        return change;
                    }
                }
                // The connection was lost: notifications sent meanwhile are gone. The next
                // `try_recv` reconnects and listens again.
                Ok(None) => {
                    tracing::warn!("change feed connection lost; reconnecting");
                    return Change::All;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed cannot reconnect; retrying");
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    return Change::All;
                }
            }
        }
    }
}

#[async_trait]
impl ChangeStore for SqlStore<sqlx::Postgres> {
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        let mut listener = PgListener::connect_with(self.pool())
            .await
            .map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        Ok(Some(Box::new(PgChangeFeed { listener })))
    }
}

#[async_trait]
impl ChangeStore for SqlStore<sqlx::Sqlite> {
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }
}
