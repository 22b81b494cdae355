//! Storage of sessions and login transactions ([`SessionStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::SqlStore;
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_session_store {
    ($db:ty) => {
        #[async_trait]
        impl SessionStore for SqlStore<$db> {
            async fn create_session(&self, session: &Session) -> StoreResult<()> {
                // Every sign-in writes here: in turn with the node's other writers.
                let _turn = self.gate().enter().await;
                sqlx::query(
                    "INSERT INTO sessions (id_hash, user_id, auth_time, amr, created, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&session.id_hash)
                .bind(&session.user_id)
                .bind(session.auth_time)
                .bind(to_json(&session.amr)?)
                .bind(session.created)
                .bind(session.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_session(
                &self,
                id_hash: &str,
                now: Timestamp,
            ) -> StoreResult<Option<Session>> {
                let row: Option<SessionRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    session_cols!(),
                    " FROM sessions WHERE id_hash = $1 AND expires_at > $2"
                ))
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Session::try_from).transpose()
            }

            async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn create_login_transaction(&self, tx: &LoginTransaction) -> StoreResult<()> {
                // Every authorize request without a session writes here.
                let _turn = self.gate().enter().await;
                sqlx::query(
                    "INSERT INTO login_transactions (id, csrf_hash, request_json, created, \
                     expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&tx.id)
                .bind(&tx.csrf_hash)
                .bind(&tx.request_json)
                .bind(tx.created)
                .bind(tx.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_login_transaction(
                &self,
                id: &str,
                now: Timestamp,
            ) -> StoreResult<Option<LoginTransaction>> {
                let row: Option<LoginTransactionRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    login_tx_cols!(),
                    " FROM login_transactions WHERE id = $1 AND expires_at > $2"
                ))
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(LoginTransaction::from))
            }

            async fn delete_login_transaction(&self, id: &str) -> StoreResult<()> {
                let _turn = self.gate().enter().await;
                sqlx::query("DELETE FROM login_transactions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }
    };
}

impl_session_store!(sqlx::Sqlite);
impl_session_store!(sqlx::Postgres);
