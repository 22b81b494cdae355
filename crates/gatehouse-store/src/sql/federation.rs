//! Storage for users and groups from a directory (LDAP) and for leases, implemented once in SQL
//! for both backends, like [`crate::sql`].

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{FederationStore, RecordSource, StoreError, StoreResult, SyncMark};

use crate::error::db_err;
use crate::sql::SqlStore;

macro_rules! impl_federation_store {
    ($db:ty) => {
        #[async_trait]
        impl FederationStore for SqlStore<$db> {
            async fn set_user_source(
                &self,
                user_id: &str,
                source: &str,
                external_id: &str,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO user_sources (user_id, source, external_id, synced_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
                     source = excluded.source, external_id = excluded.external_id, \
                     synced_at = excluded.synced_at",
                )
                .bind(user_id)
                .bind(source)
                .bind(external_id)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn user_source(&self, user_id: &str) -> StoreResult<Option<RecordSource>> {
                let row: Option<(String, String, i64)> = sqlx::query_as(
                    "SELECT source, external_id, synced_at FROM user_sources WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(|(source, external_id, synced_at)| RecordSource {
                    source,
                    external_id,
                    synced_at,
                }))
            }

            async fn list_source_users(&self, source: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT user_id FROM user_sources WHERE source = $1 ORDER BY user_id",
                )
                .bind(source)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)
            }

            async fn set_group_source(
                &self,
                group_id: &str,
                source: &str,
                external_id: &str,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO group_sources (group_id, source, external_id, synced_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (group_id) DO UPDATE SET \
                     source = excluded.source, external_id = excluded.external_id, \
                     synced_at = excluded.synced_at",
                )
                .bind(group_id)
                .bind(source)
                .bind(external_id)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_source_groups(&self, source: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT group_id FROM group_sources WHERE source = $1 ORDER BY group_id",
                )
                .bind(source)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)
            }

            async fn forgive_signin_failure(&self, user_id: &str) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE signin_failures SET failures = failures - 1 \
                     WHERE user_id = $1 AND failures > 0",
                )
                .bind(user_id)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn acquire_lease(
                &self,
                name: &str,
                holder: &str,
                now: Timestamp,
                ttl_seconds: i64,
            ) -> StoreResult<bool> {
                let taken: Option<String> = sqlx::query_scalar(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder \
                     RETURNING holder",
                )
                .bind(name)
                .bind(holder)
                .bind(now.saturating_add(ttl_seconds))
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(taken.as_deref() == Some(holder))
            }

            async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                    .bind(name)
                    .bind(holder)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn sync_mark(&self, source: &str) -> StoreResult<Option<SyncMark>> {
                let row: Option<(String, Option<String>, String, Option<i64>, i64)> =
                    sqlx::query_as(
                        "SELECT scope, mark, mark_entries, full_sync_at, version \
                         FROM sync_marks WHERE source = $1",
                    )
                    .bind(source)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(db_err)?;
                let Some((scope, mark, entries, full_sync_at, version)) = row else {
                    return Ok(None);
                };
                let mark_entries: Vec<String> = serde_json::from_str(&entries)
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
                Ok(Some(SyncMark {
                    source: source.to_owned(),
                    scope,
                    mark,
                    mark_entries,
                    full_sync_at,
                    version,
                }))
            }

            async fn save_sync_mark(&self, mark: &SyncMark, now: Timestamp) -> StoreResult<bool> {
                let entries = serde_json::to_string(&mark.mark_entries)
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
                // Insert when there is none; otherwise update only the version the caller
                // read, so of two imports saving at once the one that read older loses.
                let saved: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO sync_marks \
                     (source, scope, mark, mark_entries, full_sync_at, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6 + 1, $7) \
                     ON CONFLICT (source) DO UPDATE SET scope = excluded.scope, \
                     mark = excluded.mark, mark_entries = excluded.mark_entries, \
                     full_sync_at = excluded.full_sync_at, version = excluded.version, \
                     updated_at = excluded.updated_at \
                     WHERE sync_marks.version = $6 \
                     RETURNING version",
                )
                .bind(&mark.source)
                .bind(&mark.scope)
                .bind(&mark.mark)
                .bind(entries)
                .bind(mark.full_sync_at)
                .bind(mark.version)
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(saved == Some(mark.version + 1))
            }

            async fn find_source_user(
                &self,
                source: &str,
                external_id: &str,
            ) -> StoreResult<Option<String>> {
                sqlx::query_scalar(
                    "SELECT user_id FROM user_sources \
                     WHERE source = $1 AND lower(external_id) = lower($2) \
                     ORDER BY user_id LIMIT 1",
                )
                .bind(source)
                .bind(external_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)
            }
        }
    };
}

impl_federation_store!(sqlx::Sqlite);
impl_federation_store!(sqlx::Postgres);
