//! Storage for RFC 8628 device authorizations, implemented once in SQL for both backends,
//! like [`crate::sql`]. Each state change is a single conditional `UPDATE`, so it takes effect
//! at most once however many requests race.

use async_trait::async_trait;
use gatehouse_core::domain::{DeviceAuthorization, DeviceDecision, DeviceStatus, Timestamp};
use gatehouse_core::store::{DeviceCodeStore, StoreResult};

use crate::error::db_err;
use crate::sql::SqlStore;

/// Seconds after expiry that a device authorization is deleted.
const PURGE_AFTER: i64 = 3600;

macro_rules! device_cols {
    () => {
        "device_code_hash, user_code_hash, client_id, auth_server_id, scopes, created, \
         expires_at, poll_interval, last_polled_at, status, user_id, auth_time, amr"
    };
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    device_code_hash: String,
    user_code_hash: String,
    client_id: String,
    auth_server_id: String,
    scopes: String,
    created: i64,
    expires_at: i64,
    poll_interval: i64,
    last_polled_at: Option<i64>,
    status: String,
    user_id: Option<String>,
    auth_time: Option<i64>,
    amr: String,
}

#[derive(sqlx::FromRow)]
struct PolledRow {
    #[sqlx(flatten)]
    row: DeviceRow,
    too_fast: i64,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

impl From<DeviceRow> for DeviceAuthorization {
    fn from(r: DeviceRow) -> Self {
        DeviceAuthorization {
            device_code_hash: r.device_code_hash,
            user_code_hash: r.user_code_hash,
            client_id: r.client_id,
            auth_server_id: r.auth_server_id,
            scopes: words(&r.scopes),
            created: r.created,
            expires_at: r.expires_at,
            interval: r.poll_interval,
            last_polled_at: r.last_polled_at,
            status: DeviceStatus::from_stored(&r.status),
            user_id: r.user_id,
            auth_time: r.auth_time,
            amr: words(&r.amr),
        }
    }
}

macro_rules! impl_device_store {
    ($db:ty) => {
        #[async_trait]
        impl DeviceCodeStore for SqlStore<$db> {
            async fn insert_device_authorization(
                &self,
                d: &DeviceAuthorization,
            ) -> StoreResult<()> {
                // Each new authorization clears those expired for an hour (a late poll still
                // gets `expired_token` meanwhile), so the table stays as small as the live set.
                sqlx::query("DELETE FROM device_codes WHERE expires_at < $1")
                    .bind(d.created - PURGE_AFTER)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                sqlx::query(concat!(
                    "INSERT INTO device_codes (",
                    device_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                ))
                .bind(&d.device_code_hash)
                .bind(&d.user_code_hash)
                .bind(&d.client_id)
                .bind(&d.auth_server_id)
                .bind(d.scopes.join(" "))
                .bind(d.created)
                .bind(d.expires_at)
                .bind(d.interval)
                .bind(d.last_polled_at)
                .bind(d.status.as_str())
                .bind(&d.user_id)
                .bind(d.auth_time)
                .bind(d.amr.join(" "))
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_device_by_user_code(
                &self,
                user_code_hash: &str,
            ) -> StoreResult<Option<DeviceAuthorization>> {
                let row: Option<DeviceRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    device_cols!(),
                    " FROM device_codes WHERE user_code_hash = $1"
                ))
                .bind(user_code_hash)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn decide_device_authorization(
                &self,
                user_code_hash: &str,
                decision: &DeviceDecision,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let status = if decision.approved {
                    DeviceStatus::Approved
                } else {
                    DeviceStatus::Denied
                };
                let done = sqlx::query(
                    "UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3, \
                     amr = $4 WHERE user_code_hash = $5 AND status = 'pending' \
                     AND expires_at > $6",
                )
                .bind(status.as_str())
                .bind(&decision.user_id)
                .bind(decision.auth_time)
                .bind(decision.amr.join(" "))
                .bind(user_code_hash)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn poll_device_authorization(
                &self,
                device_code_hash: &str,
                now: Timestamp,
            ) -> StoreResult<Option<(DeviceAuthorization, bool)>> {
                // SET expressions read the row as it was, so the verdict and the new interval
                // are judged against the previous poll, in one statement.
                let row: Option<PolledRow> = sqlx::query_as(concat!(
                    "UPDATE device_codes SET last_polled_at = $2, \
                     last_poll_too_fast = CASE WHEN last_polled_at IS NOT NULL \
                     AND $2 - last_polled_at < poll_interval THEN 1 ELSE 0 END, \
                     poll_interval = CASE WHEN last_polled_at IS NOT NULL \
                     AND $2 - last_polled_at < poll_interval THEN poll_interval + 5 \
                     ELSE poll_interval END \
                     WHERE device_code_hash = $1 RETURNING ",
                    device_cols!(),
                    ", last_poll_too_fast AS too_fast"
                ))
                .bind(device_code_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(|r| (r.row.into(), r.too_fast != 0)))
            }

            async fn redeem_device_authorization(
                &self,
                device_code_hash: &str,
                now: Timestamp,
                grant_id: &str,
            ) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let done = sqlx::query(
                    "UPDATE device_codes SET status = 'redeemed' WHERE device_code_hash = $1 \
                     AND status = 'approved' AND expires_at > $2",
                )
                .bind(device_code_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query("INSERT INTO device_grants (grant_id, created) VALUES ($1, $2)")
                    .bind(grant_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn is_device_grant(&self, grant_id: &str) -> StoreResult<bool> {
                let found: Option<(String,)> =
                    sqlx::query_as("SELECT grant_id FROM device_grants WHERE grant_id = $1")
                        .bind(grant_id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(db_err)?;
                Ok(found.is_some())
            }
        }
    };
}

impl_device_store!(sqlx::Sqlite);
impl_device_store!(sqlx::Postgres);
