//! Storage of upstream identity providers and their sign-in states ([`IdpStore`]), one macro
//! for both backends. An IdP's configuration is one JSON column (`settings`).

use async_trait::async_trait;
use gatehouse_core::domain::{Idp, IdpSettings, IdpState, IdpStatus, IdpType, Timestamp};
use gatehouse_core::store::{IdpStore, StoreResult};

use super::{SqlStore, require_row};
use crate::error::{corrupt, db_err};
use crate::rows::to_json;

const IDP_COLS: &str =
    "id, name, kind, status, settings, client_secret_sealed, created, last_updated";
const STATE_COLS: &str = "state_hash, idp_id, transaction_id, browser_hash, nonce, \
     code_verifier_sealed, redirect_uri, expires_at";

type IdpRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
);
type StateRow = (String, String, String, String, String, String, String, i64);

fn idp_from_row(r: IdpRow) -> StoreResult<Idp> {
    let settings: IdpSettings =
        serde_json::from_str(&r.4).map_err(|e| corrupt("IdP settings", e))?;
    Ok(Idp {
        kind: IdpType::parse(&r.2).ok_or_else(|| corrupt("IdP type", &r.2))?,
        status: IdpStatus::parse(&r.3).ok_or_else(|| corrupt("IdP status", &r.3))?,
        id: r.0,
        name: r.1,
        settings,
        client_secret_sealed: r.5,
        created: r.6,
        last_updated: r.7,
    })
}

fn state_from_row(r: StateRow) -> IdpState {
    IdpState {
        state_hash: r.0,
        idp_id: r.1,
        transaction_id: r.2,
        browser_hash: r.3,
        nonce: r.4,
        code_verifier_sealed: r.5,
        redirect_uri: r.6,
        expires_at: r.7,
    }
}

macro_rules! impl_idp_store {
    ($db:ty) => {
        #[async_trait]
        impl IdpStore for SqlStore<$db> {
            async fn create_idp(&self, idp: &Idp) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO idps ({IDP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ))
                .bind(&idp.id)
                .bind(&idp.name)
                .bind(idp.kind.as_str())
                .bind(idp.status.as_str())
                .bind(to_json(&idp.settings)?)
                .bind(&idp.client_secret_sealed)
                .bind(idp.created)
                .bind(idp.last_updated)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_idp(&self, id: &str) -> StoreResult<Option<Idp>> {
                let row: Option<IdpRow> =
                    sqlx::query_as(&format!("SELECT {IDP_COLS} FROM idps WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(db_err)?;
                row.map(idp_from_row).transpose()
            }

            async fn list_idps(&self) -> StoreResult<Vec<Idp>> {
                let rows: Vec<IdpRow> =
                    sqlx::query_as(&format!("SELECT {IDP_COLS} FROM idps ORDER BY id"))
                        .fetch_all(self.pool())
                        .await
                        .map_err(db_err)?;
                rows.into_iter().map(idp_from_row).collect()
            }

            async fn update_idp(&self, idp: &Idp) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE idps SET name = $2, kind = $3, status = $4, settings = $5, \
                     client_secret_sealed = $6, last_updated = $7 WHERE id = $1",
                )
                .bind(&idp.id)
                .bind(&idp.name)
                .bind(idp.kind.as_str())
                .bind(idp.status.as_str())
                .bind(to_json(&idp.settings)?)
                .bind(&idp.client_secret_sealed)
                .bind(idp.last_updated)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_idp(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                sqlx::query("DELETE FROM idp_states WHERE idp_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let done = sqlx::query("DELETE FROM idps WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())?;
                tx.commit().await.map_err(db_err)
            }

            async fn create_idp_state(&self, s: &IdpState, now: Timestamp) -> StoreResult<()> {
                sqlx::query("DELETE FROM idp_states WHERE expires_at <= $1")
                    .bind(now)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                sqlx::query(&format!(
                    "INSERT INTO idp_states ({STATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ))
                .bind(&s.state_hash)
                .bind(&s.idp_id)
                .bind(&s.transaction_id)
                .bind(&s.browser_hash)
                .bind(&s.nonce)
                .bind(&s.code_verifier_sealed)
                .bind(&s.redirect_uri)
                .bind(s.expires_at)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn take_idp_state(
                &self,
                state_hash: &str,
                now: Timestamp,
            ) -> StoreResult<Option<IdpState>> {
                let row: Option<StateRow> = sqlx::query_as(&format!(
                    "DELETE FROM idp_states WHERE state_hash = $1 RETURNING {STATE_COLS}"
                ))
                .bind(state_hash)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(state_from_row).filter(|s| s.expires_at > now))
            }

            async fn find_user_id_by_source(
                &self,
                source: &str,
                external_id: &str,
            ) -> StoreResult<Option<String>> {
                sqlx::query_scalar(
                    "SELECT user_id FROM user_sources WHERE source = $1 AND external_id = $2 \
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

impl_idp_store!(sqlx::Sqlite);
impl_idp_store!(sqlx::Postgres);
