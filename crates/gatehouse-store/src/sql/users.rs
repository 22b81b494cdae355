//! Storage of users ([`UserStore`]) and the SQL of their filtered search, one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, like_literal, limit, require_row};
use crate::error::db_err;
use crate::rows::*;

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

/// The `INSERT` of a whole user row with its binds, ready to `execute` on a pool or inside a
/// transaction (user creation, and the first start's administrator).
macro_rules! insert_user {
    ($user:expr) => {
        sqlx::query(
            "INSERT INTO users (id, status, login, login_lower, email, first_name, \
             last_name, display_name, password_hash, created, last_updated, activated, \
             status_changed, last_login, password_changed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&$user.id)
        .bind($user.status.as_str())
        .bind(&$user.login)
        .bind($crate::rows::login_key(&$user.login))
        .bind(&$user.email)
        .bind(&$user.first_name)
        .bind(&$user.last_name)
        .bind(&$user.display_name)
        .bind(&$user.password_hash)
        .bind($user.created)
        .bind($user.last_updated)
        .bind($user.activated)
        .bind($user.status_changed)
        .bind($user.last_login)
        .bind($user.password_changed)
    };
}
pub(crate) use insert_user;

/// The `UPDATE` of every field of a user row but `id`, with its binds, ready to `execute` on a
/// pool or inside a transaction (a password change writes its history in the same one).
macro_rules! update_user {
    ($user:expr) => {
        sqlx::query(
            "UPDATE users SET status = $2, login = $3, login_lower = $4, email = $5, \
             first_name = $6, last_name = $7, display_name = $8, password_hash = $9, \
             created = $10, last_updated = $11, activated = $12, status_changed = $13, \
             last_login = $14, password_changed = $15 WHERE id = $1",
        )
        .bind(&$user.id)
        .bind($user.status.as_str())
        .bind(&$user.login)
        .bind($crate::rows::login_key(&$user.login))
        .bind(&$user.email)
        .bind(&$user.first_name)
        .bind(&$user.last_name)
        .bind(&$user.display_name)
        .bind(&$user.password_hash)
        .bind($user.created)
        .bind($user.last_updated)
        .bind($user.activated)
        .bind($user.status_changed)
        .bind($user.last_login)
        .bind($user.password_changed)
    };
}
pub(crate) use update_user;

macro_rules! impl_user_store {
    ($db:ty) => {
        #[async_trait]
        impl UserStore for SqlStore<$db> {
            async fn create_user(&self, user: &User) -> StoreResult<()> {
                insert_user!(user)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn find_user(&self, id: &str) -> StoreResult<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(User::try_from).transpose()
            }

            async fn record_login(&self, id: &str, now: Timestamp) -> StoreResult<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(concat!(
                    "UPDATE users SET last_login = $2 WHERE id = $1 AND status = $3 RETURNING ",
                    user_cols!()
                ))
                .bind(id)
                .bind(now)
                .bind(UserStatus::Active.as_str())
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
                let done = update_user!(user)
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
    };
}

impl_user_store!(sqlx::Sqlite);
impl_user_store!(sqlx::Postgres);
