//! Storage of WebAuthn ceremonies and credential use ([`WebauthnStore`]), one macro for both
//! backends. Credentials are `user_factors` rows (migration 0016); their signature counter is
//! kept in `last_used_step`.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::SqlStore;
use crate::error::db_err;

fn purpose_from(stored: &str) -> Option<CeremonyPurpose> {
    match stored {
        "register" => Some(CeremonyPurpose::Register),
        "authenticate" => Some(CeremonyPurpose::Authenticate),
        _ => None,
    }
}

macro_rules! impl_webauthn_store {
    ($db:ty) => {
        #[async_trait]
        impl WebauthnStore for SqlStore<$db> {
            async fn put_webauthn_ceremony(&self, c: &WebauthnCeremony) -> StoreResult<()> {
                sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
                    .bind(c.created)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO webauthn_ceremonies \
                     (binding_hash, purpose, user_id, state_json, created, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (binding_hash, purpose) DO UPDATE SET \
                     user_id = excluded.user_id, state_json = excluded.state_json, \
                     created = excluded.created, expires_at = excluded.expires_at",
                )
                .bind(&c.binding_hash)
                .bind(c.purpose.as_str())
                .bind(&c.user_id)
                .bind(&c.state_json)
                .bind(c.created)
                .bind(c.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn take_webauthn_ceremony(
                &self,
                binding_hash: &str,
                purpose: CeremonyPurpose,
                now: Timestamp,
            ) -> StoreResult<Option<WebauthnCeremony>> {
                // Deleted whether or not it has expired: an expired one is of no use either.
                let row: Option<(String, String, String, i64, i64)> = sqlx::query_as(
                    "DELETE FROM webauthn_ceremonies WHERE binding_hash = $1 AND purpose = $2 \
                     RETURNING purpose, user_id, state_json, created, expires_at",
                )
                .bind(binding_hash)
                .bind(purpose.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(
                    row.and_then(|(p, user_id, state_json, created, expires_at)| {
                        (expires_at > now).then_some(WebauthnCeremony {
                            binding_hash: binding_hash.to_owned(),
                            purpose: purpose_from(&p)?,
                            user_id,
                            state_json,
                            created,
                            expires_at,
                        })
                    }),
                )
            }

            async fn record_webauthn_use(
                &self,
                user_id: &str,
                factor_id: &str,
                counter: u32,
                credential_json: &str,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE user_factors \
                     SET credential_json = $1, last_used_step = $2, last_updated = $3 \
                     WHERE id = $4 AND user_id = $5 AND factor_type = 'webauthn' \
                     AND status = 'ACTIVE' \
                     AND ($2 = 0 OR last_used_step IS NULL OR last_used_step < $2)",
                )
                .bind(credential_json)
                .bind(i64::from(counter))
                .bind(now)
                .bind(factor_id)
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_webauthn_store!(sqlx::Sqlite);
impl_webauthn_store!(sqlx::Postgres);
