//! Storage of authorization servers ([`AuthServerStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, require_row};
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_auth_server_store {
    ($db:ty) => {
        #[async_trait]
        impl AuthServerStore for SqlStore<$db> {
            async fn create_auth_server(&self, server: &AuthServer) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_servers (id, kind, name, description, audiences, \
                     issuer_mode, status, created, last_updated, signing_alg, response_iss) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&server.id)
                .bind(server.kind.as_str())
                .bind(&server.name)
                .bind(&server.description)
                .bind(to_json(&server.audiences)?)
                .bind(server.issuer_mode.as_str())
                .bind(server.status.as_str())
                .bind(server.created)
                .bind(server.last_updated)
                .bind(server.signing_alg.as_str())
                .bind(i64::from(server.authorization_response_iss))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_auth_server(&self, id: &str) -> StoreResult<Option<AuthServer>> {
                let row: Option<AuthServerRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    auth_server_cols!(),
                    " FROM auth_servers WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(AuthServer::try_from).transpose()
            }

            async fn list_auth_servers(&self) -> StoreResult<Vec<AuthServer>> {
                let rows: Vec<AuthServerRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    auth_server_cols!(),
                    " FROM auth_servers ORDER BY id"
                ))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn update_auth_server(&self, server: &AuthServer) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE auth_servers SET kind = $2, name = $3, description = $4, \
                     audiences = $5, issuer_mode = $6, status = $7, created = $8, \
                     last_updated = $9, signing_alg = $10, response_iss = $11 WHERE id = $1",
                )
                .bind(&server.id)
                .bind(server.kind.as_str())
                .bind(&server.name)
                .bind(&server.description)
                .bind(to_json(&server.audiences)?)
                .bind(server.issuer_mode.as_str())
                .bind(server.status.as_str())
                .bind(server.created)
                .bind(server.last_updated)
                .bind(server.signing_alg.as_str())
                .bind(i64::from(server.authorization_response_iss))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }
        }
    };
}

impl_auth_server_store!(sqlx::Sqlite);
impl_auth_server_store!(sqlx::Postgres);
