//! Storage of `/api/v1` API tokens ([`ApiTokenStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, require_row};
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_api_token_store {
    ($db:ty) => {
        #[async_trait]
        impl ApiTokenStore for SqlStore<$db> {
            async fn create_api_token(&self, token: &ApiToken) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, token_hash, user_id, created, last_used, \
                     revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&token.id)
                .bind(&token.name)
                .bind(&token.token_hash)
                .bind(&token.user_id)
                .bind(token.created)
                .bind(token.last_used)
                .bind(token.revoked_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_api_token_by_hash(
                &self,
                token_hash: &str,
            ) -> StoreResult<Option<ApiToken>> {
                let row: Option<ApiTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    api_token_cols!(),
                    " FROM api_tokens WHERE token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(ApiToken::from))
            }

            async fn find_api_token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
                let row: Option<ApiTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    api_token_cols!(),
                    " FROM api_tokens WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(ApiToken::from))
            }

            async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
                let rows: Vec<ApiTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    api_token_cols!(),
                    " FROM api_tokens ORDER BY id"
                ))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(ApiToken::from).collect())
            }

            async fn revoke_api_token(&self, id: &str, now: Timestamp) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn touch_api_token(
                &self,
                id: &str,
                now: Timestamp,
                not_after: Timestamp,
            ) -> StoreResult<bool> {
                let _turn = self.gate().enter().await;
                let done = sqlx::query(
                    "UPDATE api_tokens SET last_used = $2 \
                     WHERE id = $1 AND (last_used IS NULL OR last_used <= $3)",
                )
                .bind(id)
                .bind(now)
                .bind(not_after)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_api_token_store!(sqlx::Sqlite);
impl_api_token_store!(sqlx::Postgres);
