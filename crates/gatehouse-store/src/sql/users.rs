//! Storage of users ([`UserStore`]) and the SQL of their filtered search, one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::user_query::{Bind, Dialect, PROBE_CAP, SearchPlan, plan_quick_search, plan_search};
use super::{SqlStore, limit, require_row};
use crate::error::db_err;
use crate::rows::*;

/// The plan of `search_users` (public to the crate for the plan tests of `test_support`).
pub(crate) fn search_plan(
    dialect: Dialect,
    filter: Option<&UserFilter>,
    after: Option<&str>,
    limit: i64,
) -> SearchPlan {
    plan_search(dialect, user_cols!(), filter, after, limit)
}

/// The statement of `quick_search_users` (public to the crate for the plan tests).
pub(crate) fn quick_search_statement(
    dialect: Dialect,
    q: &str,
    filter: Option<&UserFilter>,
    limit: i64,
) -> (String, Vec<Bind>) {
    plan_quick_search(dialect, user_cols!(), q, filter, limit)
}

/// A page of all users: two statements rather than `($1 IS NULL OR id > $1)`, which neither
/// database turns into a range on the primary key (the last page would read every row).
pub(crate) const USERS_AFTER: &str = concat!(
    "SELECT ",
    user_cols!(),
    " FROM users WHERE id > $1 ORDER BY id LIMIT $2"
);
pub(crate) const USERS_FIRST: &str =
    concat!("SELECT ", user_cols!(), " FROM users ORDER BY id LIMIT $1");

/// Runs a planned search (see [`plan_search`]).
macro_rules! run_search {
    ($pool:expr, $plan:expr) => {{
        let (sql, binds) = match $plan {
            SearchPlan::Direct(sql, binds) => (sql, binds),
            SearchPlan::Probe {
                probe: (probe, probe_binds),
                narrow,
                wide,
            } => {
                let mut q = sqlx::query_scalar::<_, i64>(&probe).persistent(false);
                for b in probe_binds {
                    q = bind!(q, b);
                }
                let count = q.fetch_one($pool).await.map_err(db_err)?;
                if count < PROBE_CAP { narrow } else { wide }
            }
        };
        // Not prepared for reuse: PostgreSQL then plans with the values at hand (a generic
        // plan would not know a prefix's range).
        let mut q = sqlx::query_as::<_, UserRow>(&sql).persistent(false);
        for b in binds {
            q = bind!(q, b);
        }
        q.fetch_all($pool).await.map_err(db_err)?
    }};
}

macro_rules! bind {
    ($q:expr, $b:expr) => {
        match $b {
            Bind::Text(s) => $q.bind(s),
            Bind::Int(i) => $q.bind(i),
        }
    };
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
    ($db:ty, $dialect:expr) => {
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
                // Every sign-in writes here: in turn with the node's other writers, and with
                // the failure counter's reset in the same commit (one fsync, not two).
                let _turn = self.gate().enter().await;
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let row: Option<UserRow> = sqlx::query_as(concat!(
                    "UPDATE users SET last_login = $2 WHERE id = $1 AND status = $3 RETURNING ",
                    user_cols!()
                ))
                .bind(id)
                .bind(now)
                .bind(UserStatus::Active.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                if row.is_some() {
                    sqlx::query("DELETE FROM signin_failures WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
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
                let rows: Vec<UserRow> = match page.after {
                    Some(after) => sqlx::query_as(USERS_AFTER).bind(after).bind(limit(page)),
                    None => sqlx::query_as(USERS_FIRST).bind(limit(page)),
                }
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
                let plan = search_plan($dialect, filter, page.after, limit(page));
                let rows = run_search!(&self.pool, plan);
                convert_all(rows)
            }

            async fn quick_search_users(
                &self,
                q: &str,
                filter: Option<&UserFilter>,
                limit: u32,
            ) -> StoreResult<Vec<User>> {
                let (sql, binds) = quick_search_statement($dialect, q, filter, i64::from(limit));
                let rows = run_search!(&self.pool, SearchPlan::Direct(sql, binds));
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

impl_user_store!(sqlx::Sqlite, Dialect::Sqlite);
impl_user_store!(sqlx::Postgres, Dialect::Postgres);
