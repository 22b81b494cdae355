//! Storage of `PASSWORD` policies and password history ([`PasswordPolicyStore`]), one macro
//! for both backends. Group conditions and settings are JSON text.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::users::{insert_user, update_user};
use super::{SqlStore, require_row};
use crate::error::{corrupt, db_err};
use crate::rows::to_json;

const COLS: &str = "id, name, description, priority, status, system, groups_include, settings, \
                    created, last_updated";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    description: String,
    priority: i64,
    status: String,
    system: i64,
    groups_include: String,
    settings: String,
    created: i64,
    last_updated: i64,
}

impl TryFrom<Row> for PasswordPolicy {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Self {
            status: AppStatus::parse(&r.status)
                .ok_or_else(|| corrupt("password policy status", &r.status))?,
            groups: GroupCondition {
                include: serde_json::from_str(&r.groups_include)
                    .map_err(|e| corrupt("password policy groups", e))?,
                exclude: Vec::new(),
            },
            settings: serde_json::from_str(&r.settings)
                .map_err(|e| corrupt("password policy settings", e))?,
            id: r.id,
            name: r.name,
            description: r.description,
            priority: r.priority,
            system: r.system != 0,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

/// Inserts a history entry and trims the user's history to the newest `keep`, on `$tx`.
macro_rules! push_history {
    ($tx:expr, $user_id:expr, $hash:expr, $at:expr, $keep:expr) => {{
        sqlx::query("INSERT INTO password_history (user_id, hash, created) VALUES ($1, $2, $3)")
            .bind($user_id)
            .bind($hash)
            .bind($at)
            .execute($tx)
            .await
            .map_err(db_err)?;
        // Keep the newest `keep` (ties on the second broken by the hash, stably).
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND hash NOT IN \
             (SELECT hash FROM password_history WHERE user_id = $1 \
              ORDER BY created DESC, hash DESC LIMIT $2)",
        )
        .bind($user_id)
        .bind(i64::from($keep))
        .execute($tx)
        .await
        .map_err(db_err)?;
    }};
}

/// A user written "with a password" that has none is the caller's bug, not bad data.
fn no_hash() -> StoreError {
    StoreError::Backend("a password write without a password hash".into())
}

macro_rules! impl_password_policy_store {
    ($db:ty) => {
        #[async_trait]
        impl PasswordPolicyStore for SqlStore<$db> {
            async fn create_password_policy(&self, p: &PasswordPolicy) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO password_policies (id, name, description, priority, status, \
                     system, groups_include, settings, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&p.id)
                .bind(&p.name)
                .bind(&p.description)
                .bind(p.priority)
                .bind(p.status.as_str())
                .bind(i64::from(p.system))
                .bind(to_json(&p.groups.include)?)
                .bind(to_json(&p.settings)?)
                .bind(p.created)
                .bind(p.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_password_policy(&self, id: &str) -> StoreResult<Option<PasswordPolicy>> {
                let sql = format!("SELECT {COLS} FROM password_policies WHERE id = $1");
                let row: Option<Row> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.map(PasswordPolicy::try_from).transpose()
            }

            async fn list_password_policies(&self) -> StoreResult<Vec<PasswordPolicy>> {
                let sql =
                    format!("SELECT {COLS} FROM password_policies ORDER BY system, priority, id");
                let rows: Vec<Row> = sqlx::query_as(&sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.into_iter().map(PasswordPolicy::try_from).collect()
            }

            async fn update_password_policy(&self, p: &PasswordPolicy) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE password_policies SET name = $2, description = $3, priority = $4, \
                     status = $5, groups_include = $6, settings = $7, last_updated = $8 \
                     WHERE id = $1",
                )
                .bind(&p.id)
                .bind(&p.name)
                .bind(&p.description)
                .bind(p.priority)
                .bind(p.status.as_str())
                .bind(to_json(&p.groups.include)?)
                .bind(to_json(&p.settings)?)
                .bind(p.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_password_policy(&self, id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM password_policies WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn password_history(
                &self,
                user_id: &str,
                limit: u32,
            ) -> StoreResult<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT hash FROM password_history WHERE user_id = $1 \
                     ORDER BY created DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(|(h,)| h).collect())
            }

            async fn push_password_history(
                &self,
                user_id: &str,
                hash: &str,
                at: Timestamp,
                keep: u32,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                push_history!(&mut *tx, user_id, hash, at, keep);
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn create_user_with_password(&self, user: &User, keep: u32) -> StoreResult<()> {
                let hash = user.password_hash.as_deref().ok_or_else(no_hash)?;
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                insert_user!(user).execute(&mut *tx).await.map_err(db_err)?;
                push_history!(
                    &mut *tx,
                    &user.id,
                    hash,
                    user.password_changed.unwrap_or(user.created),
                    keep
                );
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn update_user_with_password(&self, user: &User, keep: u32) -> StoreResult<()> {
                let hash = user.password_hash.as_deref().ok_or_else(no_hash)?;
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let done = update_user!(user).execute(&mut *tx).await.map_err(db_err)?;
                require_row(done.rows_affected())?;
                push_history!(
                    &mut *tx,
                    &user.id,
                    hash,
                    user.password_changed.unwrap_or(user.last_updated),
                    keep
                );
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn replace_password_hash(
                &self,
                user_id: &str,
                old: &str,
                new: &str,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
                )
                .bind(user_id)
                .bind(old)
                .bind(new)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_password_policy_store!(sqlx::Sqlite);
impl_password_policy_store!(sqlx::Postgres);
