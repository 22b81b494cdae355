//! Storage for service apps (client-assertion `jti`s and Okta API scope grants), implemented
//! once in SQL for both backends, like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::{AppGrant, Timestamp};
use gatehouse_core::store::{AppGrantStore, ClientAssertionStore, StoreError, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

macro_rules! app_grant_cols {
    () => {
        "id, app_id, scope_id, issuer, source, created_by, created, last_updated"
    };
}

#[derive(sqlx::FromRow)]
struct AppGrantRow {
    id: String,
    app_id: String,
    scope_id: String,
    issuer: String,
    source: String,
    created_by: Option<String>,
    created: i64,
    last_updated: i64,
}

impl From<AppGrantRow> for AppGrant {
    fn from(r: AppGrantRow) -> Self {
        AppGrant {
            id: r.id,
            app_id: r.app_id,
            scope_id: r.scope_id,
            issuer: r.issuer,
            source: r.source,
            created_by: r.created_by,
            created: r.created,
            last_updated: r.last_updated,
        }
    }
}

macro_rules! impl_client_stores {
    ($db:ty) => {
        #[async_trait]
        impl ClientAssertionStore for SqlStore<$db> {
            async fn consume_client_assertion_jti(
                &self,
                client_id: &str,
                jti: &str,
                expires_at: Timestamp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                // Inserts, or takes over a record that has already expired; a live record is
                // left alone and affects no row.
                let done = sqlx::query(
                    "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
                     WHERE client_assertion_jtis.expires_at <= $4",
                )
                .bind(client_id)
                .bind(jti)
                .bind(expires_at)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl AppGrantStore for SqlStore<$db> {
            async fn create_app_grant(&self, grant: &AppGrant) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO app_grants (id, app_id, scope_id, issuer, source, created_by, \
                     created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&grant.id)
                .bind(&grant.app_id)
                .bind(&grant.scope_id)
                .bind(&grant.issuer)
                .bind(&grant.source)
                .bind(&grant.created_by)
                .bind(grant.created)
                .bind(grant.last_updated)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_app_grants(&self, app_id: &str) -> StoreResult<Vec<AppGrant>> {
                let rows: Vec<AppGrantRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_grant_cols!(),
                    " FROM app_grants WHERE app_id = $1 ORDER BY id"
                ))
                .bind(app_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(AppGrant::from).collect())
            }

            async fn find_app_grant(
                &self,
                app_id: &str,
                grant_id: &str,
            ) -> StoreResult<Option<AppGrant>> {
                let row: Option<AppGrantRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_grant_cols!(),
                    " FROM app_grants WHERE app_id = $1 AND id = $2"
                ))
                .bind(app_id)
                .bind(grant_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(AppGrant::from))
            }

            async fn delete_app_grant(&self, app_id: &str, grant_id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM app_grants WHERE app_id = $1 AND id = $2")
                    .bind(app_id)
                    .bind(grant_id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }
        }
    };
}

impl_client_stores!(sqlx::Sqlite);
impl_client_stores!(sqlx::Postgres);
