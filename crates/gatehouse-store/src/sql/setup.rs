//! Setup changes of several rows, each in one transaction ([`SetupStore`]): replacing a server's
//! active signing key, and creating the bootstrap administrator. Implemented once in SQL for both
//! backends, like [`crate::sql`].
//!
//! Each transaction's first statement is a write that serializes concurrent callers on any
//! node: on SQLite it takes the database's write lock, on PostgreSQL a row lock (or the wait on
//! an uncommitted unique key), so the checks that follow see every earlier change.

use async_trait::async_trait;
use gatehouse_core::domain::KeyStatus;
use gatehouse_core::store::{BootstrapAdmin, KeyChange, SetupStore, StoreError, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

/// The `meta` row naming the bootstrap administrator: written once, in the transaction that
/// creates it.
const BOOTSTRAP_ADMIN_META: &str = "bootstrap_admin";

macro_rules! impl_setup_store {
    ($db:ty) => {
        #[async_trait]
        impl SetupStore for SqlStore<$db> {
            async fn replace_active_signing_key(&self, change: &KeyChange<'_>) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                // Serializes key changes of this server (see the module comment).
                let locked = sqlx::query("UPDATE auth_servers SET id = id WHERE id = $1")
                    .bind(change.auth_server_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if locked.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let active: Vec<(String,)> = sqlx::query_as(
                    "SELECT kid FROM signing_keys WHERE auth_server_id = $1 AND status = $2",
                )
                .bind(change.auth_server_id)
                .bind(KeyStatus::Active.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                let current_ok = match change.expected_active {
                    None => active.is_empty(),
                    Some(kid) => active.iter().any(|(k,)| k == kid),
                };
                if !current_ok {
                    // Dropping the transaction rolls it back.
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE signing_keys SET status = $3 WHERE auth_server_id = $1 AND status = $2",
                )
                .bind(change.auth_server_id)
                .bind(KeyStatus::Active.as_str())
                .bind(KeyStatus::Expired.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let key = change.new_active;
                // The key may be stored already, as this server's NEXT key (published ahead).
                let stored = sqlx::query(
                    "INSERT INTO signing_keys (kid, auth_server_id, alg, status, \
                     private_key_sealed, public_jwk, created) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (kid) DO UPDATE SET status = excluded.status \
                     WHERE signing_keys.auth_server_id = excluded.auth_server_id",
                )
                .bind(&key.kid)
                .bind(change.auth_server_id)
                .bind(&key.alg)
                .bind(KeyStatus::Active.as_str())
                .bind(&key.private_key_sealed)
                .bind(&key.public_jwk)
                .bind(key.created)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if stored.rows_affected() == 0 {
                    // The kid belongs to another server.
                    return Err(StoreError::Conflict {
                        constraint: "kid".into(),
                    });
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn create_bootstrap_admin(&self, admin: &BootstrapAdmin<'_>) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                // The marker first: of nodes starting together, one inserts it; the others
                // wait for its transaction and then insert nothing.
                let marked = sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(BOOTSTRAP_ADMIN_META)
                .bind(&admin.user.id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if marked.rows_affected() == 0 {
                    return Ok(false);
                }
                // EXISTS, not COUNT(*): a directory seeded without the marker starts as fast
                // at a million users as at none.
                let (users,): (bool,) =
                    sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                if users {
                    // Set up before the marker existed: it has its administrators. Record
                    // that, without naming anyone.
                    sqlx::query("UPDATE meta SET value = '' WHERE name = $1")
                        .bind(BOOTSTRAP_ADMIN_META)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)?;
                    return Ok(false);
                }
                let user = admin.user;
                super::users::insert_user!(user)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let group = admin.group;
                sqlx::query(
                    "INSERT INTO groups (id, name, description, group_type, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&group.id)
                .bind(&group.name)
                .bind(&group.description)
                .bind(group.group_type.as_str())
                .bind(group.created)
                .bind(group.last_updated)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id) \
                     SELECT id, $2 FROM groups WHERE name = $1 ON CONFLICT DO NOTHING",
                )
                .bind(&group.name)
                .bind(&user.id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let role = admin.role;
                sqlx::query(
                    "INSERT INTO admin_roles (id, user_id, role_type, created) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&role.id)
                .bind(&user.id)
                .bind(&role.role_type)
                .bind(role.created)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn insert_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(key)
                .bind(value)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn bootstrap_admin_id(&self) -> StoreResult<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT value FROM meta WHERE name = $1")
                        .bind(BOOTSTRAP_ADMIN_META)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(db_err)?;
                Ok(row.map(|(v,)| v).filter(|v| !v.is_empty()))
            }
        }
    };
}

impl_setup_store!(sqlx::Sqlite);
impl_setup_store!(sqlx::Postgres);
