//! Storage of apps and their group and user assignments ([`AppStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, like_literal, limit, require_row};
use crate::error::db_err;
use crate::rows::*;

macro_rules! impl_app_store {
    ($db:ty) => {
        #[async_trait]
        impl AppStore for SqlStore<$db> {
            async fn create_app(&self, app: &App) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO apps (id, name, label, status, client_id, settings, created, \
                     last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&app.id)
                .bind(&app.name)
                .bind(&app.label)
                .bind(app.status.as_str())
                .bind(&app.client_id)
                .bind(to_json(&app.settings)?)
                .bind(app.created)
                .bind(app.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_app(&self, id: &str) -> StoreResult<Option<App>> {
                let row: Option<AppRow> =
                    sqlx::query_as(concat!("SELECT ", app_cols!(), " FROM apps WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                row.map(App::try_from).transpose()
            }

            async fn find_app_by_client_id(&self, client_id: &str) -> StoreResult<Option<App>> {
                let row: Option<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_cols!(),
                    " FROM apps WHERE client_id = $1"
                ))
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(App::try_from).transpose()
            }

            async fn update_app(&self, app: &App) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE apps SET name = $2, label = $3, status = $4, client_id = $5, \
                     settings = $6, created = $7, last_updated = $8 \
                     WHERE id = $1",
                )
                .bind(&app.id)
                .bind(&app.name)
                .bind(&app.label)
                .bind(app.status.as_str())
                .bind(&app.client_id)
                .bind(to_json(&app.settings)?)
                .bind(app.created)
                .bind(app.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn list_apps(&self, page: Page<'_>) -> StoreResult<Vec<App>> {
                let rows: Vec<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_cols!(),
                    " FROM apps WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
                ))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn search_apps(&self, query: &AppQuery, page: Page<'_>) -> StoreResult<Vec<App>> {
                let prefix = query
                    .prefix
                    .as_ref()
                    .map(|p| format!("{}%", like_literal(&p.to_lowercase())));
                let rows: Vec<AppRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    app_cols!(),
                    " FROM apps WHERE ($1 IS NULL OR id > $1) \
                     AND ($2 IS NULL OR lower(label) LIKE $2 ESCAPE '\\' \
                          OR lower(name) LIKE $2 ESCAPE '\\') \
                     AND ($3 IS NULL OR id = $3) AND ($4 IS NULL OR name = $4) \
                     AND ($5 IS NULL OR status = $5) ORDER BY id LIMIT $6"
                ))
                .bind(page.after)
                .bind(prefix)
                .bind(query.id.as_deref())
                .bind(query.name.as_deref())
                .bind(query.status.map(|s| s.as_str()))
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn delete_app(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for sql in [
                    "DELETE FROM app_groups WHERE app_id = $1",
                    "DELETE FROM app_users WHERE app_id = $1",
                    "DELETE FROM app_client_secrets WHERE app_id = $1",
                    "DELETE FROM apps WHERE id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn assign_app_group(
                &self,
                app_id: &str,
                group_id: &str,
                priority: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO app_groups (app_id, group_id, priority) VALUES ($1, $2, $3) \
                     ON CONFLICT (app_id, group_id) DO UPDATE SET priority = excluded.priority",
                )
                .bind(app_id)
                .bind(group_id)
                .bind(priority)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn unassign_app_group(&self, app_id: &str, group_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM app_groups WHERE app_id = $1 AND group_id = $2")
                    .bind(app_id)
                    .bind(group_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn list_app_groups(&self, app_id: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT group_id FROM app_groups WHERE app_id = $1 \
                     ORDER BY priority, group_id",
                )
                .bind(app_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn list_app_group_assignments(
                &self,
                app_id: &str,
            ) -> StoreResult<Vec<AppGroupAssignment>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT group_id, priority FROM app_groups WHERE app_id = $1 \
                     ORDER BY priority, group_id",
                )
                .bind(app_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(group_id, priority)| AppGroupAssignment {
                        app_id: app_id.to_owned(),
                        group_id,
                        priority,
                    })
                    .collect())
            }

            async fn assign_app_user(&self, app_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO app_users (app_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(app_id)
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn unassign_app_user(&self, app_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM app_users WHERE app_id = $1 AND user_id = $2")
                    .bind(app_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn list_app_users(&self, app_id: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar("SELECT user_id FROM app_users WHERE app_id = $1 ORDER BY user_id")
                    .bind(app_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn is_user_assigned(&self, app_id: &str, user_id: &str) -> StoreResult<bool> {
                // Built-in groups contain every user, but only users that exist.
                let hit = sqlx::query(
                    "SELECT 1 FROM app_users WHERE app_id = $1 AND user_id = $2 \
                     UNION ALL \
                     SELECT 1 FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id \
                     WHERE ag.app_id = $1 AND gm.user_id = $2 \
                     UNION ALL \
                     SELECT 1 FROM app_groups ag JOIN groups g ON g.id = ag.group_id \
                     WHERE ag.app_id = $1 AND g.group_type = $3 \
                     AND EXISTS (SELECT 1 FROM users WHERE id = $2) \
                     LIMIT 1",
                )
                .bind(app_id)
                .bind(user_id)
                .bind(GroupType::BuiltIn.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(hit.is_some())
            }
        }
    };
}

impl_app_store!(sqlx::Sqlite);
impl_app_store!(sqlx::Postgres);
