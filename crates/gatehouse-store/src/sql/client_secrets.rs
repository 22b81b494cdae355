//! Storage for apps' client secrets, implemented once in SQL for both backends, like
//! [`crate::sql`]. A change that depends on the app's other secrets first updates the app's
//! row in its transaction: that row lock (PostgreSQL) or the write lock (SQLite) serialises
//! concurrent changes to one app's secrets.

use async_trait::async_trait;
use gatehouse_core::domain::{AppStatus, ClientSecret, Timestamp};
use gatehouse_core::store::{ClientSecretStore, StoreError, StoreResult};

use crate::error::{corrupt, db_err};
use crate::sql::SqlStore;

macro_rules! client_secret_cols {
    () => {
        "id, app_id, secret_sealed, status, created, last_updated"
    };
}

#[derive(sqlx::FromRow)]
struct ClientSecretRow {
    id: String,
    app_id: String,
    secret_sealed: String,
    status: String,
    created: i64,
    last_updated: i64,
}

impl TryFrom<ClientSecretRow> for ClientSecret {
    type Error = StoreError;
    fn try_from(r: ClientSecretRow) -> StoreResult<Self> {
        let status = AppStatus::parse(&r.status)
            .ok_or_else(|| corrupt("client secret status", format_args!("{:?}", r.status)))?;
        Ok(ClientSecret {
            id: r.id,
            app_id: r.app_id,
            secret_sealed: r.secret_sealed,
            status,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

fn conflict(constraint: &str) -> StoreError {
    StoreError::Conflict {
        constraint: constraint.into(),
    }
}

macro_rules! impl_client_secret_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            /// Locks the app's row for the rest of `tx`; `NotFound` when there is no such app.
            async fn lock_app(
                tx: &mut sqlx::Transaction<'_, $db>,
                app_id: &str,
            ) -> StoreResult<()> {
                let done = sqlx::query("UPDATE apps SET last_updated = last_updated WHERE id = $1")
                    .bind(app_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            /// Inserts one secret row of `app_id` within `tx`.
            async fn insert_secret(
                tx: &mut sqlx::Transaction<'_, $db>,
                app_id: &str,
                secret: &ClientSecret,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO app_client_secrets (id, app_id, secret_sealed, status, created, \
                     last_updated) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&secret.id)
                .bind(app_id)
                .bind(&secret.secret_sealed)
                .bind(secret.status.as_str())
                .bind(secret.created)
                .bind(secret.last_updated)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn secret_status(
                tx: &mut sqlx::Transaction<'_, $db>,
                app_id: &str,
                secret_id: &str,
            ) -> StoreResult<AppStatus> {
                let status: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM app_client_secrets WHERE app_id = $1 AND id = $2",
                )
                .bind(app_id)
                .bind(secret_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
                let status = status.ok_or(StoreError::NotFound)?;
                AppStatus::parse(&status)
                    .ok_or_else(|| corrupt("client secret status", format_args!("{status:?}")))
            }
        }

        #[async_trait]
        impl ClientSecretStore for SqlStore<$db> {
            async fn add_client_secret(&self, secret: &ClientSecret, max: u32) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                Self::lock_app(&mut tx, &secret.app_id).await?;
                let count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM app_client_secrets WHERE app_id = $1")
                        .bind(&secret.app_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                if count >= i64::from(max) {
                    return Err(conflict("client_secrets"));
                }
                Self::insert_secret(&mut tx, &secret.app_id, secret).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn list_client_secrets(&self, app_id: &str) -> StoreResult<Vec<ClientSecret>> {
                let rows: Vec<ClientSecretRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    client_secret_cols!(),
                    " FROM app_client_secrets WHERE app_id = $1 ORDER BY created, id"
                ))
                .bind(app_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                rows.into_iter().map(ClientSecret::try_from).collect()
            }

            async fn set_client_secret_status(
                &self,
                app_id: &str,
                secret_id: &str,
                status: AppStatus,
                now: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                Self::lock_app(&mut tx, app_id).await?;
                let current = Self::secret_status(&mut tx, app_id, secret_id).await?;
                if current == AppStatus::Active && status == AppStatus::Inactive {
                    let others: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM app_client_secrets \
                         WHERE app_id = $1 AND id <> $2 AND status = $3",
                    )
                    .bind(app_id)
                    .bind(secret_id)
                    .bind(AppStatus::Active.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if others == 0 {
                        return Err(conflict("last_active_secret"));
                    }
                }
                sqlx::query(
                    "UPDATE app_client_secrets SET status = $3, last_updated = $4 \
                     WHERE app_id = $1 AND id = $2",
                )
                .bind(app_id)
                .bind(secret_id)
                .bind(status.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn delete_client_secret(&self, app_id: &str, secret_id: &str) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                Self::lock_app(&mut tx, app_id).await?;
                if Self::secret_status(&mut tx, app_id, secret_id).await? == AppStatus::Active {
                    return Err(conflict("active_secret"));
                }
                sqlx::query("DELETE FROM app_client_secrets WHERE app_id = $1 AND id = $2")
                    .bind(app_id)
                    .bind(secret_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn replace_client_secrets(
                &self,
                app_id: &str,
                secrets: &[ClientSecret],
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                Self::lock_app(&mut tx, app_id).await?;
                sqlx::query("DELETE FROM app_client_secrets WHERE app_id = $1")
                    .bind(app_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for secret in secrets {
                    Self::insert_secret(&mut tx, app_id, secret).await?;
                }
                tx.commit().await.map_err(db_err)
            }
        }
    };
}

impl_client_secret_store!(sqlx::Sqlite);
impl_client_secret_store!(sqlx::Postgres);
