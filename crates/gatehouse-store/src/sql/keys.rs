//! Storage of signing keys ([`KeyStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, require_row};
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_key_store {
    ($db:ty) => {
        #[async_trait]
        impl KeyStore for SqlStore<$db> {
            async fn add_signing_key(&self, key: &SigningKey) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, auth_server_id, alg, status, \
                     private_key_sealed, public_jwk, created) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&key.kid)
                .bind(&key.auth_server_id)
                .bind(&key.alg)
                .bind(key.status.as_str())
                .bind(&key.private_key_sealed)
                .bind(&key.public_jwk)
                .bind(key.created)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_signing_keys(&self, auth_server_id: &str) -> StoreResult<Vec<SigningKey>> {
                let rows: Vec<SigningKeyRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    signing_key_cols!(),
                    " FROM signing_keys WHERE auth_server_id = $1 ORDER BY created DESC, seq DESC"
                ))
                .bind(auth_server_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn set_signing_key_status(&self, kid: &str, status: KeyStatus) -> StoreResult<()> {
                let done = sqlx::query("UPDATE signing_keys SET status = $2 WHERE kid = $1")
                    .bind(kid)
                    .bind(status.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())
            }
        }
    };
}

impl_key_store!(sqlx::Sqlite);
impl_key_store!(sqlx::Postgres);
