//! Storage of authorization servers' configuration (scopes, claims, policies, rules), one SQL
//! implementation for both backends, like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::{AuthServerObject, AuthServerObjectKind};
use gatehouse_core::store::{AuthServerConfigStore, StoreError, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

#[derive(sqlx::FromRow)]
struct ObjectRow {
    id: String,
    auth_server_id: String,
    kind: String,
    parent_id: Option<String>,
    unique_key: String,
    priority: i64,
    body: String,
    created: i64,
}

impl ObjectRow {
    fn into_object(self) -> Option<AuthServerObject> {
        Some(AuthServerObject {
            kind: AuthServerObjectKind::parse(&self.kind)?,
            id: self.id,
            auth_server_id: self.auth_server_id,
            parent_id: self.parent_id,
            unique_key: self.unique_key,
            priority: self.priority,
            body: self.body,
            created: self.created,
        })
    }
}

macro_rules! impl_authz_store {
    ($db:ty) => {
        #[async_trait]
        impl AuthServerConfigStore for SqlStore<$db> {
            async fn create_auth_server_object(&self, o: &AuthServerObject) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_server_objects (id, auth_server_id, kind, parent_id, \
                     unique_key, priority, body, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&o.id)
                .bind(&o.auth_server_id)
                .bind(o.kind.as_str())
                .bind(&o.parent_id)
                .bind(&o.unique_key)
                .bind(o.priority)
                .bind(&o.body)
                .bind(o.created)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn update_auth_server_object(&self, o: &AuthServerObject) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE auth_server_objects SET unique_key = $3, priority = $4, body = $5 \
                     WHERE auth_server_id = $1 AND id = $2",
                )
                .bind(&o.auth_server_id)
                .bind(&o.id)
                .bind(&o.unique_key)
                .bind(o.priority)
                .bind(&o.body)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn list_auth_server_objects(
                &self,
                auth_server_id: &str,
            ) -> StoreResult<Vec<AuthServerObject>> {
                let rows: Vec<ObjectRow> = sqlx::query_as(
                    "SELECT id, auth_server_id, kind, parent_id, unique_key, priority, body, \
                     created FROM auth_server_objects WHERE auth_server_id = $1 \
                     ORDER BY kind, priority, created, id",
                )
                .bind(auth_server_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().filter_map(ObjectRow::into_object).collect())
            }

            async fn delete_auth_server_object(
                &self,
                auth_server_id: &str,
                id: &str,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let done = sqlx::query(
                    "DELETE FROM auth_server_objects WHERE auth_server_id = $1 AND id = $2",
                )
                .bind(auth_server_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(
                    "DELETE FROM auth_server_objects WHERE auth_server_id = $1 AND parent_id = $2",
                )
                .bind(auth_server_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn delete_auth_server(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let done = sqlx::query("DELETE FROM auth_servers WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                for table in ["auth_server_objects", "signing_keys"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE auth_server_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

        }
    };
}

impl_authz_store!(sqlx::Sqlite);
impl_authz_store!(sqlx::Postgres);
