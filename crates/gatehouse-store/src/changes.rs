//! [`ChangeStore`]: PostgreSQL notifies every node of configuration changes as they commit
//! (triggers of migration 0014 `NOTIFY gatehouse_changes`); each node LISTENs on a connection of
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
    pool: sqlx::PgPool,
    /// `None` after the connection was lost, until listening again.
    listener: Option<PgListener>,
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[async_trait]
impl ChangeFeed for PgChangeFeed {
    async fn next(&mut self) -> Change {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listen(&self.pool).await {
                    // Listening again: whatever changed while nobody listened is unknown.
                    // (Only now: a cache refilled before the LISTEN could miss a change.)
                    Ok(listener) => {
                        self.listener = Some(listener);
                        tracing::info!("change feed listening again");
                        return Change::All;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed cannot reconnect; retrying");
                        tokio::time::sleep(RECONNECT_PAUSE).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = Change::from_payload(notification.payload()) {
                        return change;
                    }
                }
                // The connection was lost (`Ok(None)`) or failed: notifications sent meanwhile
                // are gone. Reconnect before saying so.
                Ok(None) => {
                    tracing::warn!("change feed connection lost; reconnecting");
                    self.listener = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed failed; reconnecting");
                    self.listener = None;
                }
            }
        }
    }
}

#[async_trait]
impl ChangeStore for SqlStore<sqlx::Postgres> {
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        let listener = listen(self.pool()).await.map_err(db_err)?;
        Ok(Some(Box::new(PgChangeFeed {
            pool: self.pool().clone(),
            listener: Some(listener),
        })))
    }
}

#[async_trait]
impl ChangeStore for SqlStore<sqlx::Sqlite> {
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }
}
