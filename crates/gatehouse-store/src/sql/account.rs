//! Revoking everything a user holds (grants, refresh and access tokens, API tokens, sessions)
//! in one transaction, implemented once in SQL for both backends like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{AccountRevocationStore, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

macro_rules! impl_account_store {
    ($db:ty) => {
        #[async_trait]
        impl AccountRevocationStore for SqlStore<$db> {
            async fn revoke_user_credentials(
                &self,
                user_id: &str,
                now: Timestamp,
                keep_api_tokens: bool,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let mut statements = vec![
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
                     AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
                    "UPDATE access_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
                     AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
                    "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                ];
                if !keep_api_tokens {
                    statements.push(
                        "UPDATE api_tokens SET revoked_at = $2 \
                         WHERE user_id = $1 AND revoked_at IS NULL",
                    );
                }
                for sql in statements {
                    sqlx::query(sql)
                        .bind(user_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }
        }
    };
}

impl_account_store!(sqlx::Sqlite);
impl_account_store!(sqlx::Postgres);
