//! Storage for users' consent grants, implemented once in SQL for both backends, like
//! [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::ConsentGrant;
use gatehouse_core::store::{ConsentGrantStore, StoreError, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

macro_rules! consent_grant_cols {
    () => {
        "id, user_id, client_id, issuer, auth_server_id, scope_id, scope_name, created, \
         last_updated"
    };
}

#[derive(sqlx::FromRow)]
struct ConsentGrantRow {
    id: String,
    user_id: String,
    client_id: String,
    issuer: String,
    auth_server_id: String,
    scope_id: String,
    scope_name: String,
    created: i64,
    last_updated: i64,
}

impl From<ConsentGrantRow> for ConsentGrant {
    fn from(r: ConsentGrantRow) -> Self {
        ConsentGrant {
            id: r.id,
            user_id: r.user_id,
            client_id: r.client_id,
            issuer: r.issuer,
            auth_server_id: r.auth_server_id,
            scope_id: r.scope_id,
            scope_name: r.scope_name,
            created: r.created,
            last_updated: r.last_updated,
        }
    }
}

macro_rules! impl_consent_store {
    ($db:ty) => {
        #[async_trait]
        impl ConsentGrantStore for SqlStore<$db> {
            async fn save_consent_grants(&self, grants: &[ConsentGrant]) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                for g in grants {
                    sqlx::query(
                        "INSERT INTO consent_grants (id, user_id, client_id, issuer, \
                         auth_server_id, scope_id, scope_name, created, last_updated) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (user_id, client_id, issuer, scope_id) DO UPDATE SET \
                         scope_name = excluded.scope_name, last_updated = excluded.last_updated",
                    )
                    .bind(&g.id)
                    .bind(&g.user_id)
                    .bind(&g.client_id)
                    .bind(&g.issuer)
                    .bind(&g.auth_server_id)
                    .bind(&g.scope_id)
                    .bind(&g.scope_name)
                    .bind(g.created)
                    .bind(g.last_updated)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn list_consent_grants(
                &self,
                user_id: &str,
                client_id: Option<&str>,
            ) -> StoreResult<Vec<ConsentGrant>> {
                let rows: Vec<ConsentGrantRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    consent_grant_cols!(),
                    " FROM consent_grants WHERE user_id = $1 \
                     AND ($2 IS NULL OR client_id = $2) ORDER BY id"
                ))
                .bind(user_id)
                .bind(client_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(ConsentGrant::from).collect())
            }

            async fn find_consent_grant(
                &self,
                user_id: &str,
                grant_id: &str,
            ) -> StoreResult<Option<ConsentGrant>> {
                let row: Option<ConsentGrantRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    consent_grant_cols!(),
                    " FROM consent_grants WHERE user_id = $1 AND id = $2"
                ))
                .bind(user_id)
                .bind(grant_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(ConsentGrant::from))
            }

            async fn delete_consent_grant(&self, user_id: &str, grant_id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM consent_grants WHERE user_id = $1 AND id = $2")
                    .bind(user_id)
                    .bind(grant_id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn delete_consent_grants(
                &self,
                user_id: &str,
                client_id: Option<&str>,
            ) -> StoreResult<Vec<ConsentGrant>> {
                let rows: Vec<ConsentGrantRow> = sqlx::query_as(concat!(
                    "DELETE FROM consent_grants WHERE user_id = $1 \
                     AND ($2 IS NULL OR client_id = $2) RETURNING ",
                    consent_grant_cols!()
                ))
                .bind(user_id)
                .bind(client_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                let mut grants: Vec<ConsentGrant> =
                    rows.into_iter().map(ConsentGrant::from).collect();
                grants.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(grants)
            }
        }
    };
}

impl_consent_store!(sqlx::Sqlite);
impl_consent_store!(sqlx::Postgres);
