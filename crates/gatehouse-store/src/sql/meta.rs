//! Storage of key/value metadata ([`MetaStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::store::*;

use super::SqlStore;
use crate::error::db_err;

macro_rules! impl_meta_store {
    ($db:ty) => {
        #[async_trait]
        impl MetaStore for SqlStore<$db> {
            async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            fn pool_stats(&self) -> Option<gatehouse_core::store::PoolStats> {
                let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
                Some(gatehouse_core::store::PoolStats {
                    connections: self.pool.size(),
                    idle,
                })
            }
        }
    };
}

impl_meta_store!(sqlx::Sqlite);
impl_meta_store!(sqlx::Postgres);
