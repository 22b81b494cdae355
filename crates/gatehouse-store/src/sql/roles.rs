//! Storage for administrator role assignments, implemented once in SQL for both backends,
//! like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::AdminRole;
use gatehouse_core::store::{AdminRoleStore, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

#[derive(sqlx::FromRow)]
struct AdminRoleRow {
    id: String,
    user_id: String,
    role_type: String,
    created: i64,
}

impl From<AdminRoleRow> for AdminRole {
    fn from(r: AdminRoleRow) -> Self {
        AdminRole {
            id: r.id,
            user_id: r.user_id,
            role_type: r.role_type,
            created: r.created,
        }
    }
}

macro_rules! impl_role_store {
    ($db:ty) => {
        #[async_trait]
        impl AdminRoleStore for SqlStore<$db> {
            async fn assign_admin_role(&self, role: &AdminRole) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO admin_roles (id, user_id, role_type, created) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, role_type) DO NOTHING",
                )
                .bind(&role.id)
                .bind(&role.user_id)
                .bind(&role.role_type)
                .bind(role.created)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_admin_roles(&self, user_id: &str) -> StoreResult<Vec<AdminRole>> {
                let rows: Vec<AdminRoleRow> = sqlx::query_as(
                    "SELECT id, user_id, role_type, created FROM admin_roles \
                     WHERE user_id = $1 ORDER BY role_type",
                )
                .bind(user_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(AdminRole::from).collect())
            }

            async fn unassign_admin_role(&self, user_id: &str, role_type: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM admin_roles WHERE user_id = $1 AND role_type = $2")
                    .bind(user_id)
                    .bind(role_type)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn count_admin_role(&self, role_type: &str) -> StoreResult<u64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM admin_roles WHERE role_type = $1")
                        .bind(role_type)
                        .fetch_one(self.pool())
                        .await
                        .map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    };
}

impl_role_store!(sqlx::Sqlite);
impl_role_store!(sqlx::Postgres);
