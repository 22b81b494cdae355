//! Storage for one-time user links (migration 0023), once in SQL for both backends, like
//! [`crate::sql`]. Spending a link is one conditional `DELETE ... RETURNING`, so it takes effect
//! once however many requests race.

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{LinkPurpose, StoreResult, UserLinkRecord, UserLinkStore};

use crate::error::db_err;
use crate::sql::SqlStore;

#[derive(sqlx::FromRow)]
struct LinkRow {
    token_hash: String,
    user_id: String,
    created: i64,
    expires_at: i64,
}

fn record(r: LinkRow, purpose: LinkPurpose) -> UserLinkRecord {
    UserLinkRecord {
        token_hash: r.token_hash,
        user_id: r.user_id,
        purpose,
        created: r.created,
        expires_at: r.expires_at,
    }
}

macro_rules! impl_link_store {
    ($db:ty) => {
        #[async_trait]
        impl UserLinkStore for SqlStore<$db> {
            async fn replace_user_link(&self, l: &UserLinkRecord) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                sqlx::query(
                    "DELETE FROM user_links WHERE expires_at < $1 OR \
                     (user_id = $2 AND purpose = $3)",
                )
                .bind(l.created)
                .bind(&l.user_id)
                .bind(l.purpose.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO user_links (token_hash, user_id, purpose, created, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&l.token_hash)
                .bind(&l.user_id)
                .bind(l.purpose.as_str())
                .bind(l.created)
                .bind(l.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn find_user_link(
                &self,
                token_hash: &str,
                purpose: LinkPurpose,
                now: Timestamp,
            ) -> StoreResult<Option<UserLinkRecord>> {
                let row: Option<LinkRow> = sqlx::query_as(
                    "SELECT token_hash, user_id, created, expires_at FROM user_links \
                     WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
                )
                .bind(token_hash)
                .bind(purpose.as_str())
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(|r| record(r, purpose)))
            }

            async fn spend_user_link(
                &self,
                token_hash: &str,
                purpose: LinkPurpose,
                now: Timestamp,
            ) -> StoreResult<Option<UserLinkRecord>> {
                let row: Option<LinkRow> = sqlx::query_as(
                    "DELETE FROM user_links WHERE token_hash = $1 AND purpose = $2 \
                     AND expires_at > $3 RETURNING token_hash, user_id, created, expires_at",
                )
                .bind(token_hash)
                .bind(purpose.as_str())
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(|r| record(r, purpose)))
            }

            async fn restore_user_link(&self, l: &UserLinkRecord) -> StoreResult<()> {
                // Only if no newer link of this purpose was issued meanwhile.
                sqlx::query(
                    "INSERT INTO user_links (token_hash, user_id, purpose, created, expires_at) \
                     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM user_links \
                     WHERE user_id = $2 AND purpose = $3) ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(&l.token_hash)
                .bind(&l.user_id)
                .bind(l.purpose.as_str())
                .bind(l.created)
                .bind(l.expires_at)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn delete_user_links(&self, user_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM user_links WHERE user_id = $1")
                    .bind(user_id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }
    };
}

impl_link_store!(sqlx::Sqlite);
impl_link_store!(sqlx::Postgres);
