//! Storage for `sessionToken`s and password migrations (migration 0018) and for what an
//! import carried from a source org (0028), once in SQL for both
//! backends, like [`crate::sql`]. Spending a token and completing a migration are each decided
//! by one conditional statement, so they take effect once however many requests race.

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{AuthnStore, ImportRecord, SessionTokenRecord, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    user_id: String,
    auth_time: i64,
    created: i64,
    expires_at: i64,
}

impl From<TokenRow> for SessionTokenRecord {
    fn from(r: TokenRow) -> Self {
        SessionTokenRecord {
            token_hash: r.token_hash,
            user_id: r.user_id,
            auth_time: r.auth_time,
            created: r.created,
            expires_at: r.expires_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    source_url: String,
    kind: String,
    source_id: String,
    target_id: String,
    last_seen: i64,
}

impl From<ImportRow> for ImportRecord {
    fn from(r: ImportRow) -> Self {
        ImportRecord {
            source_url: r.source_url,
            kind: r.kind,
            source_id: r.source_id,
            target_id: r.target_id,
            last_seen: r.last_seen,
        }
    }
}

macro_rules! impl_authn_store {
    ($db:ty) => {
        #[async_trait]
        impl AuthnStore for SqlStore<$db> {
            async fn insert_session_token(&self, t: &SessionTokenRecord) -> StoreResult<()> {
                sqlx::query("DELETE FROM session_tokens WHERE expires_at < $1")
                    .bind(t.created)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO session_tokens (token_hash, user_id, auth_time, created, \
                     expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&t.token_hash)
                .bind(&t.user_id)
                .bind(t.auth_time)
                .bind(t.created)
                .bind(t.expires_at)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn spend_session_token(
                &self,
                token_hash: &str,
                now: Timestamp,
            ) -> StoreResult<Option<SessionTokenRecord>> {
                let row: Option<TokenRow> = sqlx::query_as(
                    "DELETE FROM session_tokens WHERE token_hash = $1 AND expires_at > $2 \
                     RETURNING token_hash, user_id, auth_time, created, expires_at",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn mark_password_migration(
                &self,
                user_id: &str,
                source_url: &str,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO password_migrations (user_id, source_url, created) \
                     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
                     source_url = excluded.source_url",
                )
                .bind(user_id)
                .bind(source_url)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn password_migration_source(
                &self,
                user_id: &str,
            ) -> StoreResult<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT source_url FROM password_migrations WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(db_err)?;
                Ok(row.map(|r| r.0))
            }

            async fn complete_password_migration(
                &self,
                user_id: &str,
                password_hash: &str,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let cleared = sqlx::query("DELETE FROM password_migrations WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if cleared.rows_affected() != 1 {
                    return Ok(false);
                }
                let set = sqlx::query(
                    "UPDATE users SET password_hash = $2, password_changed = $3, \
                     last_updated = $3 WHERE id = $1 AND password_hash IS NULL",
                )
                .bind(user_id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(set.rows_affected() == 1)
            }

            async fn record_import(&self, r: &ImportRecord) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO import_records (source_url, kind, source_id, target_id, \
                     last_seen) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (source_url, kind, source_id) DO UPDATE SET \
                     target_id = excluded.target_id, last_seen = excluded.last_seen",
                )
                .bind(&r.source_url)
                .bind(&r.kind)
                .bind(&r.source_id)
                .bind(&r.target_id)
                .bind(r.last_seen)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_imports(
                &self,
                source_url: &str,
                kind: &str,
            ) -> StoreResult<Vec<ImportRecord>> {
                let rows: Vec<ImportRow> = sqlx::query_as(
                    "SELECT source_url, kind, source_id, target_id, last_seen \
                     FROM import_records WHERE source_url = $1 AND kind = $2 \
                     ORDER BY source_id",
                )
                .bind(source_url)
                .bind(kind)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn forget_import(
                &self,
                source_url: &str,
                kind: &str,
                source_id: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM import_records WHERE source_url = $1 AND kind = $2 \
                     AND source_id = $3",
                )
                .bind(source_url)
                .bind(kind)
                .bind(source_id)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }
        }
    };
}

impl_authn_store!(sqlx::Sqlite);
impl_authn_store!(sqlx::Postgres);
