//! The storage traits, implemented once in SQL for both backends.
//!
//! [`impl_store!`] expands the same bodies for `SqlStore<Sqlite>` and `SqlStore<Postgres>`: the
//! queries use `$n` placeholders (which sqlx's SQLite driver accepts too), portable types and
//! `ON CONFLICT` / `RETURNING`, which both databases support.
//!
//! SQLite note: inside a transaction the first statement is always a write, so the connection
//! takes the write lock up front (waiting on `busy_timeout`) instead of failing to upgrade a
//! read snapshot.

mod account;
mod authz;
mod client_secrets;
mod clients;
mod consent;
mod logs;
mod roles;
mod setup;

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use std::sync::Arc;

use crate::error::db_err;
use crate::group_commit::{GroupCommit, WriteOp};
use crate::rows::*;

/// A store over a `sqlx` connection pool; implements every storage trait for
/// [`sqlx::Sqlite`] and [`sqlx::Postgres`].
pub struct SqlStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    /// This node's batching writer for token records and System Log events.
    writer: Arc<GroupCommit<sqlx::Pool<DB>>>,
}

/// The SQLite store.
pub type SqliteStore = SqlStore<sqlx::Sqlite>;
/// The PostgreSQL store.
pub type PgStore = SqlStore<sqlx::Postgres>;

impl<DB: sqlx::Database> SqlStore<DB> {
    /// Wraps a pool whose database has already been migrated (see [`crate::migrate_sqlite`] and
    /// [`crate::migrate_postgres`]).
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self::with_writer_pool(pool.clone(), pool)
    }

    /// As [`SqlStore::new`], with the batching writer on its own pool (see
    /// [`crate::connect_sqlite`]).
    pub fn with_writer_pool(pool: sqlx::Pool<DB>, writer_pool: sqlx::Pool<DB>) -> Self {
        Self {
            writer: Arc::new(GroupCommit::new(writer_pool)),
            pool,
        }
    }

    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// The batching writer's pool (the same as [`SqlStore::pool`] unless the store was built
    /// with its own; fault-injection tests reach the writer's connection through it).
    pub fn writer_pool(&self) -> &sqlx::Pool<DB> {
        self.writer.pool()
    }

    pub(crate) fn writer(&self) -> &GroupCommit<sqlx::Pool<DB>> {
        &self.writer
    }
}

impl<DB: sqlx::Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
        }
    }
}

impl<DB: sqlx::Database> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &DB::NAME)
            .finish_non_exhaustive()
    }
}

fn limit(page: Page<'_>) -> i64 {
    i64::from(page.limit)
}

/// `NotFound` when an update touched no row.
fn require_row(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A `LIKE` pattern matching `value` literally (escape character `\`).
fn like_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Builds a `WHERE` condition for a user filter with `$n` placeholders (numbered from
/// `binds.len() + 1`), pushing the bound values.
fn user_filter_sql(filter: &UserFilter, binds: &mut Vec<String>) -> String {
    match filter {
        UserFilter::And(a, b) => format!(
            "({} AND {})",
            user_filter_sql(a, binds),
            user_filter_sql(b, binds)
        ),
        UserFilter::Or(a, b) => format!(
            "({} OR {})",
            user_filter_sql(a, binds),
            user_filter_sql(b, binds)
        ),
        UserFilter::Not(a) => format!("(NOT {})", user_filter_sql(a, binds)),
        UserFilter::Compare { field, op, value } => {
            // Exact columns compare as stored; profile strings ignore case.
            let (column, exact) = match field {
                UserField::Id => ("id", true),
                UserField::Status => ("status", true),
                UserField::Login => ("login_lower", false),
                UserField::Email => ("lower(email)", false),
                UserField::FirstName => ("lower(first_name)", false),
                UserField::LastName => ("lower(last_name)", false),
                UserField::DisplayName => ("lower(COALESCE(display_name, ''))", false),
            };
            let value = if exact {
                value.clone()
            } else {
                value.to_lowercase()
            };
            let mut bind = |v: String| {
                binds.push(v);
                format!("${}", binds.len())
            };
            match op {
                FilterOp::Eq => format!("{column} = {}", bind(value)),
                FilterOp::Ne => format!("{column} <> {}", bind(value)),
                FilterOp::Sw => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    bind(format!("{}%", like_literal(&value)))
                ),
                FilterOp::Co => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    bind(format!("%{}%", like_literal(&value)))
                ),
                FilterOp::Pr => match field {
                    UserField::DisplayName => {
                        "(display_name IS NOT NULL AND display_name <> '')".to_owned()
                    }
                    _ => format!("{column} <> ''"),
                },
            }
        }
    }
}

/// The `search_users` query and its bound values (the limit is bound last, as an integer).
fn search_users_sql(filter: Option<&UserFilter>, after: Option<&str>) -> (String, Vec<String>) {
    let mut binds = Vec::new();
    let mut conditions = Vec::new();
    if let Some(f) = filter {
        conditions.push(user_filter_sql(f, &mut binds));
    }
    if let Some(after) = after {
        binds.push(after.to_owned());
        conditions.push(format!("id > ${}", binds.len()));
    }
    let mut sql = concat!("SELECT ", user_cols!(), " FROM users").to_owned();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(" ORDER BY id LIMIT ${}", binds.len() + 1));
    (sql, binds)
}

macro_rules! impl_store {
    ($db:ty) => {
        #[async_trait]
        impl UserStore for SqlStore<$db> {
            async fn create_user(&self, user: &User) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, status, login, login_lower, email, first_name, \
                     last_name, display_name, password_hash, created, last_updated, activated, \
                     status_changed, last_login, password_changed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&user.id)
                .bind(user.status.as_str())
                .bind(&user.login)
                .bind(login_key(&user.login))
                .bind(&user.email)
                .bind(&user.first_name)
                .bind(&user.last_name)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.created)
                .bind(user.last_updated)
                .bind(user.activated)
                .bind(user.status_changed)
                .bind(user.last_login)
                .bind(user.password_changed)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_user(&self, id: &str) -> StoreResult<Option<User>> {
                let row: Option<UserRow> =
                    sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                row.map(User::try_from).transpose()
            }

            async fn find_user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE login_lower = $1"
                ))
                .bind(login_key(login))
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(User::try_from).transpose()
            }

            async fn update_user(&self, user: &User) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE users SET status = $2, login = $3, login_lower = $4, email = $5, \
                     first_name = $6, last_name = $7, display_name = $8, password_hash = $9, \
                     created = $10, last_updated = $11, activated = $12, status_changed = $13, \
                     last_login = $14, password_changed = $15 WHERE id = $1",
                )
                .bind(&user.id)
                .bind(user.status.as_str())
                .bind(&user.login)
                .bind(login_key(&user.login))
                .bind(&user.email)
                .bind(&user.first_name)
                .bind(&user.last_name)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.created)
                .bind(user.last_updated)
                .bind(user.activated)
                .bind(user.status_changed)
                .bind(user.last_login)
                .bind(user.password_changed)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn list_users(&self, page: Page<'_>) -> StoreResult<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
                ))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn search_users(
                &self,
                filter: Option<&UserFilter>,
                page: Page<'_>,
            ) -> StoreResult<Vec<User>> {
                let (sql, binds) = search_users_sql(filter, page.after);
                let mut query = sqlx::query_as::<_, UserRow>(&sql);
                for value in binds {
                    query = query.bind(value);
                }
                let rows = query
                    .bind(limit(page))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                convert_all(rows)
            }

            async fn delete_user(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for sql in [
                    "DELETE FROM group_members WHERE user_id = $1",
                    "DELETE FROM app_users WHERE user_id = $1",
                    "DELETE FROM sessions WHERE user_id = $1",
                    "DELETE FROM users WHERE id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }
        }

        #[async_trait]
        impl GroupStore for SqlStore<$db> {
            async fn create_group(&self, group: &Group) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO groups (id, name, description, group_type, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&group.id)
                .bind(&group.name)
                .bind(&group.description)
                .bind(group.group_type.as_str())
                .bind(group.created)
                .bind(group.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_group(&self, id: &str) -> StoreResult<Option<Group>> {
                let row: Option<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Group::try_from).transpose()
            }

            async fn find_group_by_name(&self, name: &str) -> StoreResult<Option<Group>> {
                let row: Option<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE name = $1"
                ))
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Group::try_from).transpose()
            }

            async fn list_groups(&self, page: Page<'_>) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
                ))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn search_groups_by_name(
                &self,
                prefix: &str,
                page: Page<'_>,
            ) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE lower(name) LIKE $1 ESCAPE '\\' \
                     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                ))
                .bind(format!("{}%", like_literal(&prefix.to_lowercase())))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn update_group(&self, group: &Group) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE groups SET name = $2, description = $3, group_type = $4, \
                     created = $5, last_updated = $6 WHERE id = $1",
                )
                .bind(&group.id)
                .bind(&group.name)
                .bind(&group.description)
                .bind(group.group_type.as_str())
                .bind(group.created)
                .bind(group.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_group(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for sql in [
                    "DELETE FROM group_members WHERE group_id = $1",
                    "DELETE FROM app_groups WHERE group_id = $1",
                    "DELETE FROM groups WHERE id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn add_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(group_id)
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn remove_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn list_group_members(
                &self,
                group_id: &str,
                page: Page<'_>,
            ) -> StoreResult<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE id IN (SELECT user_id FROM group_members WHERE group_id = $1) \
                     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                ))
                .bind(group_id)
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn list_user_groups(&self, user_id: &str) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) \
                     OR (group_type = $2 AND EXISTS (SELECT 1 FROM users WHERE id = $1)) \
                     ORDER BY id"
                ))
                .bind(user_id)
                .bind(GroupType::BuiltIn.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }
        }

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

        #[async_trait]
        impl AuthServerStore for SqlStore<$db> {
            async fn create_auth_server(&self, server: &AuthServer) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_servers (id, kind, name, description, audiences, \
                     issuer_mode, status, created, last_updated, signing_alg) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
                     last_updated = $9, signing_alg = $10 WHERE id = $1",
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
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }
        }

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

        #[async_trait]
        impl SessionStore for SqlStore<$db> {
            async fn create_session(&self, session: &Session) -> StoreResult<()> {
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
                sqlx::query("DELETE FROM login_transactions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }

        #[async_trait]
        impl TokenStore for SqlStore<$db> {
            async fn create_code(&self, code: &AuthCode) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_codes (code_hash, grant_id, client_id, user_id, \
                     auth_server_id, redirect_uri, scopes, nonce, code_challenge, auth_time, amr, \
                     session_id_hash, created, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&code.code_hash)
                .bind(&code.grant_id)
                .bind(&code.client_id)
                .bind(&code.user_id)
                .bind(&code.auth_server_id)
                .bind(&code.redirect_uri)
                .bind(to_json(&code.scopes)?)
                .bind(&code.nonce)
                .bind(&code.code_challenge)
                .bind(code.auth_time)
                .bind(to_json(&code.amr)?)
                .bind(&code.session_id_hash)
                .bind(code.created)
                .bind(code.expires_at)
                .bind(code.used_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn redeem_code(
                &self,
                code_hash: &str,
                now: Timestamp,
            ) -> StoreResult<CodeRedemption> {
                // One statement decides the winner: the row lock (PostgreSQL) or the database
                // write lock (SQLite) serialises concurrent redeemers, and only the first still
                // sees `used_at IS NULL`. (`fetch_all` steps the statement to completion; it
                // returns at most one row, the key being unique.)
                let won: Vec<AuthCodeRow> = sqlx::query_as(concat!(
                    "UPDATE auth_codes SET used_at = $2 \
                     WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
                    code_cols!()
                ))
                .bind(code_hash)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                if let Some(row) = won.into_iter().next() {
                    return Ok(CodeRedemption::Redeemed(AuthCode::try_from(row)?));
                }
                let row: Option<AuthCodeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                match row.map(AuthCode::try_from).transpose()? {
                    Some(code) if code.used_at.is_some() => Ok(CodeRedemption::Replayed(code)),
                    _ => Ok(CodeRedemption::NotFound),
                }
            }

            async fn find_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>> {
                let row: Option<AuthCodeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(AuthCode::try_from).transpose()
            }

            async fn find_code_and_user(
                &self,
                code_hash: &str,
            ) -> StoreResult<Option<(AuthCode, Option<User>)>> {
                let row: Option<CodeAndUserRow> = sqlx::query_as(concat!(
                    "SELECT c.*, u.* FROM (SELECT ",
                    code_cols!(),
                    " FROM auth_codes WHERE code_hash = $1) c JOIN (SELECT ",
                    user_cols!(),
                    " FROM users) u ON u.id = c.user_id"
                ))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                match row {
                    Some(row) => Ok(Some((
                        AuthCode::try_from(row.code)?,
                        Some(User::try_from(row.user)?),
                    ))),
                    // No such code, or its user is gone (rare): the code alone, read apart.
                    None => Ok(self.find_code(code_hash).await?.map(|code| (code, None))),
                }
            }

            async fn create_grant(&self, grant: &Grant) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::Grant(grant.clone())]).await
            }

            async fn find_grant(&self, id: &str) -> StoreResult<Option<Grant>> {
                let row: Option<GrantRow> =
                    sqlx::query_as(concat!("SELECT ", grant_cols!(), " FROM grants WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                row.map(Grant::try_from).transpose()
            }

            async fn revoke_grant(&self, id: &str, now: Timestamp) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                // A grant not created yet (a replayed code racing its first redemption) gets a
                // revoked placeholder, so the later create_grant hits a conflict.
                sqlx::query(
                    "INSERT INTO grants (id, client_id, user_id, auth_server_id, scopes, \
                     auth_time, amr, created, revoked_at) \
                     VALUES ($1, '', NULL, '', '[]', NULL, '[]', $2, $2) \
                     ON CONFLICT (id) DO UPDATE \
                     SET revoked_at = COALESCE(grants.revoked_at, excluded.revoked_at)",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                for sql in [
                    "UPDATE refresh_tokens SET revoked_at = $2 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                    "UPDATE access_tokens SET revoked_at = $2 \
                     WHERE grant_id = $1 AND revoked_at IS NULL",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn create_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::RefreshToken(token.clone())]).await
            }

            async fn find_refresh_token(
                &self,
                token_hash: &str,
            ) -> StoreResult<Option<RefreshToken>> {
                let row: Option<RefreshTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    refresh_cols!(),
                    " FROM refresh_tokens WHERE token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(RefreshToken::try_from).transpose()
            }

            async fn revoke_refresh_token(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $2 \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn record_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
                self.writer.write(vec![WriteOp::AccessToken(token.clone())]).await
            }

            async fn record_issued(&self, issued: &IssuedTokens<'_>) -> StoreResult<()> {
                let mut ops = Vec::with_capacity(5 + issued.events.len());
                ops.extend(issued.claim.map(|c| match c {
                    Claim::Code { code_hash, now } => WriteOp::RedeemCode {
                        code_hash: code_hash.to_owned(),
                        now,
                    },
                    Claim::Rotation { token_hash, now } => WriteOp::MarkRotated {
                        token_hash: token_hash.to_owned(),
                        now,
                    },
                }));
                ops.extend(issued.grant.map(|g| WriteOp::Grant(g.clone())));
                ops.extend(issued.access.map(|t| WriteOp::AccessToken(t.clone())));
                ops.extend(issued.refresh.map(|t| WriteOp::RefreshToken(t.clone())));
                ops.extend(issued.refresh_expiry.map(|(hash, expires_at)| {
                    WriteOp::RefreshExpiry {
                        token_hash: hash.to_owned(),
                        expires_at,
                    }
                }));
                ops.extend(issued.events.iter().cloned().map(WriteOp::LogEvent));
                if ops.is_empty() {
                    return Ok(());
                }
                self.writer.write(ops).await
            }

            async fn find_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>> {
                let row: Option<AccessTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    access_cols!(),
                    " FROM access_tokens WHERE jti = $1"
                ))
                .bind(jti)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(AccessTokenRecord::from))
            }

            async fn find_access_token_and_user(
                &self,
                jti: &str,
                user_id: &str,
            ) -> StoreResult<(Option<AccessTokenRecord>, Option<User>)> {
                let row: Option<UserAndAccessTokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    ", a.jti AS at_jti, a.grant_id AS at_grant_id, a.client_id AS at_client_id, \
                     a.expires_at AS at_expires_at, a.revoked_at AS at_revoked_at \
                     FROM users LEFT JOIN access_tokens a ON a.jti = $1 WHERE users.id = $2"
                ))
                .bind(jti)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                match row {
                    Some(row) => {
                        let token = row.access_token();
                        Ok((token, Some(User::try_from(row.user)?)))
                    }
                    // No such user: the record alone, read apart (rare).
                    None => Ok((self.find_access_token(jti).await?, None)),
                }
            }

            async fn revoke_access_token(
                &self,
                token: &AccessTokenRecord,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO access_tokens (jti, grant_id, client_id, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (jti) DO UPDATE \
                     SET revoked_at = COALESCE(access_tokens.revoked_at, excluded.revoked_at)",
                )
                .bind(&token.jti)
                .bind(&token.grant_id)
                .bind(&token.client_id)
                .bind(token.expires_at)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let mut purged = 0;
                for sql in [
                    "DELETE FROM auth_codes WHERE expires_at <= $1",
                    "DELETE FROM login_transactions WHERE expires_at <= $1",
                    "DELETE FROM sessions WHERE expires_at <= $1",
                    "DELETE FROM refresh_tokens WHERE expires_at <= $1",
                    "DELETE FROM access_tokens WHERE expires_at <= $1",
                    // A window is at most an hour long; older counters count for nothing.
                    "DELETE FROM rate_limits WHERE window_start <= $1 - 3600",
                    "DELETE FROM client_assertion_jtis WHERE expires_at <= $1",
                    // A grant outlives its codes and tokens by a day (revocation of a grant not
                    // created yet leaves a record for that long), then it counts for nothing:
                    // without this, every code exchange's grant would leave a row forever.
                    "DELETE FROM grants WHERE created <= $1 - 86400
                       AND NOT EXISTS (SELECT 1 FROM auth_codes c WHERE c.grant_id = grants.id)
                       AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id)
                       AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = grants.id)",
                ] {
                    let done = sqlx::query(sql)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    purged += done.rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(purged)
            }
        }

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

        #[async_trait]
        impl RateLimitStore for SqlStore<$db> {
            async fn hit_rate_limit(
                &self,
                bucket: &str,
                window_start: Timestamp,
            ) -> StoreResult<u64> {
                let hits: i64 = sqlx::query_scalar(
                    "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
                     ON CONFLICT (bucket, window_start)
                     DO UPDATE SET hits = rate_limits.hits + 1
                     RETURNING hits",
                )
                .bind(bucket)
                .bind(window_start)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(u64::try_from(hits).unwrap_or(0))
            }

            async fn rate_limit_hits(
                &self,
                bucket: &str,
                window_start: Timestamp,
            ) -> StoreResult<u64> {
                let hits: Option<i64> = sqlx::query_scalar(
                    "SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2",
                )
                .bind(bucket)
                .bind(window_start)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(hits.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
            }
        }

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

        #[async_trait]
        impl MetaStore for SqlStore<$db> {
            async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            fn pool_stats(&self) -> Option<gatehouse_core::store::PoolStats> {
                let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
                Some(gatehouse_core::store::PoolStats { connections: self.pool.size(), idle })
            }
        }
    };
}

impl_store!(sqlx::Sqlite);
impl_store!(sqlx::Postgres);
