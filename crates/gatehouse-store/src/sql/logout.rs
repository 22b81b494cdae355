//! Ending sessions (with what a user holds) and the back-channel logout outbox, implemented
//! once in SQL for both backends like [`crate::sql`]. See [`LogoutStore`].

use async_trait::async_trait;
use gatehouse_core::domain::Timestamp;
use gatehouse_core::store::{
    EndSessions, LogoutDelivery, LogoutStore, SessionApp, SessionScope, StoreResult,
};

use crate::error::db_err;
use crate::sql::SqlStore;

/// Revokes a user's grants with their refresh and access tokens; binds `$1` user, `$2` now.
const REVOKE_OAUTH: [&str; 3] = [
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
     AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
    "UPDATE access_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
     AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
    "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
];
const REVOKE_API_TOKENS: &str =
    "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

/// The rows of the ended sessions: `$1` is the session or user, `$n` the session kept.
fn scope_condition(scope: &SessionScope<'_>, session_col: &str, n: u8) -> String {
    match scope {
        SessionScope::One(_) => format!("{session_col} = $1"),
        SessionScope::User { except: None, .. } => "user_id = $1".into(),
        SessionScope::User {
            except: Some(_), ..
        } => format!("user_id = $1 AND {session_col} <> ${n}"),
    }
}

type DeliveryRow = (String, String, String, String, String, String, i64, i64);

macro_rules! impl_logout_store {
    ($db:ty) => {
        #[async_trait]
        impl LogoutStore for SqlStore<$db> {
            async fn record_session_app(&self, a: &SessionApp) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO session_apps (session_hash, client_id, issuer, user_id, \
                     auth_server_id, sid, created, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (session_hash, client_id, issuer) DO NOTHING",
                )
                .bind(&a.session_hash)
                .bind(&a.client_id)
                .bind(&a.issuer)
                .bind(&a.user_id)
                .bind(&a.auth_server_id)
                .bind(&a.sid)
                .bind(a.created)
                .bind(a.expires_at)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn end_sessions(&self, end: &EndSessions<'_>) -> StoreResult<u64> {
                let (key, except) = match end.scope {
                    SessionScope::One(id_hash) => (id_hash, None),
                    SessionScope::User { user_id, except } => (user_id, except),
                };
                let of_user = matches!(end.scope, SessionScope::User { .. });
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let mut revocations: Vec<&str> = Vec::new();
                if of_user && end.oauth_tokens {
                    revocations.extend(REVOKE_OAUTH);
                }
                if of_user && end.api_tokens {
                    revocations.push(REVOKE_API_TOKENS);
                }
                for sql in revocations {
                    sqlx::query(sql)
                        .bind(key)
                        .bind(end.now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                // The apps each ending session signed in to get a logout token, queued in
                // the transaction that ends the session.
                let queue = format!(
                    "INSERT INTO logout_outbox (id, client_id, auth_server_id, issuer, user_id, \
                     sid, attempts, next_attempt_at, claimed_until, created) \
                     SELECT session_hash || ' ' || client_id || ' ' || issuer, client_id, \
                     auth_server_id, issuer, user_id, sid, 0, $2, 0, $2 FROM session_apps \
                     WHERE {} ON CONFLICT (id) DO NOTHING",
                    scope_condition(&end.scope, "session_hash", 3)
                );
                let mut q = sqlx::query(&queue).bind(key).bind(end.now);
                if let Some(e) = except {
                    q = q.bind(e);
                }
                q.execute(&mut *tx).await.map_err(db_err)?;
                let mut ended = 0;
                for (table, col) in [("session_apps", "session_hash"), ("sessions", "id_hash")] {
                    let sql = format!(
                        "DELETE FROM {table} WHERE {}",
                        scope_condition(&end.scope, col, 2)
                    );
                    let mut q = sqlx::query(&sql).bind(key);
                    if let Some(e) = except {
                        q = q.bind(e);
                    }
                    ended = q.execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(ended)
            }

            async fn claim_logout_deliveries(
                &self,
                now: Timestamp,
                lease: i64,
                limit: u32,
            ) -> StoreResult<Vec<LogoutDelivery>> {
                // The conditions are repeated outside the subquery: a row another node claimed
                // meanwhile fails them when this statement gets to it (PostgreSQL re-reads a
                // row it waited for; SQLite has one writer).
                let rows: Vec<DeliveryRow> = sqlx::query_as(
                    "UPDATE logout_outbox SET claimed_until = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM logout_outbox WHERE next_attempt_at <= $1 \
                     AND claimed_until <= $1 ORDER BY next_attempt_at, id LIMIT $3) \
                     AND next_attempt_at <= $1 AND claimed_until <= $1 \
                     RETURNING id, client_id, auth_server_id, issuer, user_id, sid, attempts, \
                     created",
                )
                .bind(now)
                .bind(now + lease)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|r| LogoutDelivery {
                        id: r.0,
                        client_id: r.1,
                        auth_server_id: r.2,
                        issuer: r.3,
                        user_id: r.4,
                        sid: r.5,
                        attempts: r.6,
                        created: r.7,
                    })
                    .collect())
            }

            async fn finish_logout_delivery(&self, id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM logout_outbox WHERE id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn retry_logout_delivery(
                &self,
                id: &str,
                next_attempt_at: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE logout_outbox SET next_attempt_at = $2, claimed_until = 0 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(next_attempt_at)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn purge_session_apps(&self, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM session_apps WHERE expires_at <= $1")
                    .bind(now)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_logout_store!(sqlx::Sqlite);
impl_logout_store!(sqlx::Postgres);
