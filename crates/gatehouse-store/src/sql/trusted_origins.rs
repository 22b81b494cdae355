//! Storage of trusted origins ([`TrustedOriginStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, limit, require_row};
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_trusted_origin_store {
    ($db:ty) => {
        #[async_trait]
        impl TrustedOriginStore for SqlStore<$db> {
            async fn create_trusted_origin(&self, o: &TrustedOrigin) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO trusted_origins (id, name, origin, scopes, status, created, \
                     created_by, last_updated, last_updated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&o.id)
                .bind(&o.name)
                .bind(&o.origin)
                .bind(to_json(&o.scopes)?)
                .bind(o.status.as_str())
                .bind(o.created)
                .bind(&o.created_by)
                .bind(o.last_updated)
                .bind(&o.last_updated_by)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_trusted_origin(&self, id: &str) -> StoreResult<Option<TrustedOrigin>> {
                let row: Option<TrustedOriginRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    trusted_origin_cols!(),
                    " FROM trusted_origins WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(TrustedOrigin::try_from).transpose()
            }

            async fn find_trusted_origin_by_origin(
                &self,
                origin: &str,
            ) -> StoreResult<Option<TrustedOrigin>> {
                let row: Option<TrustedOriginRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    trusted_origin_cols!(),
                    " FROM trusted_origins WHERE origin = $1"
                ))
                .bind(origin)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(TrustedOrigin::try_from).transpose()
            }

            async fn list_trusted_origins(
                &self,
                page: Page<'_>,
            ) -> StoreResult<Vec<TrustedOrigin>> {
                let rows: Vec<TrustedOriginRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    trusted_origin_cols!(),
                    " FROM trusted_origins WHERE id > $1 ORDER BY id LIMIT $2"
                ))
                .bind(page.after.unwrap_or(""))
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn update_trusted_origin(&self, o: &TrustedOrigin) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE trusted_origins SET name = $2, origin = $3, scopes = $4, \
                     status = $5, created = $6, created_by = $7, last_updated = $8, \
                     last_updated_by = $9 WHERE id = $1",
                )
                .bind(&o.id)
                .bind(&o.name)
                .bind(&o.origin)
                .bind(to_json(&o.scopes)?)
                .bind(o.status.as_str())
                .bind(o.created)
                .bind(&o.created_by)
                .bind(o.last_updated)
                .bind(&o.last_updated_by)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_trusted_origin(&self, id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM trusted_origins WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())
            }
        }
    };
}

impl_trusted_origin_store!(sqlx::Sqlite);
impl_trusted_origin_store!(sqlx::Postgres);
