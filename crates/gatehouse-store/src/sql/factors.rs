//! Storage of multi-factor sign-in ([`FactorStore`]): factors, recovery codes and pending
//! second steps, one macro for both backends. Single-use things are spent by one conditional
//! statement each.

use async_trait::async_trait;
use gatehouse_core::domain::{Factor, FactorStatus, PendingSignIn, Timestamp, UserStatus};
use gatehouse_core::store::{FactorStore, StoreResult, TotpPass, TotpPassOutcome};

use super::{SqlStore, require_row};
use crate::error::db_err;
use crate::rows::to_json;

macro_rules! factor_cols {
    () => {
        "id, user_id, factor_type, provider, status, name, secret_sealed, credential_json, \
         last_used_step, created, last_updated"
    };
}

macro_rules! pending_cols {
    () => {
        "id_hash, user_id, csrf_hash, transaction_id, session_hash, return_to, enroll, \
         verified_amr, attempts, created, expires_at"
    };
}

#[derive(sqlx::FromRow)]
struct FactorRow {
    id: String,
    user_id: String,
    factor_type: String,
    provider: String,
    status: String,
    name: String,
    secret_sealed: Option<String>,
    credential_json: Option<String>,
    last_used_step: Option<i64>,
    created: i64,
    last_updated: i64,
}

impl From<FactorRow> for Factor {
    fn from(r: FactorRow) -> Self {
        Factor {
            id: r.id,
            user_id: r.user_id,
            factor_type: r.factor_type,
            provider: r.provider,
            status: FactorStatus::from_stored(&r.status),
            name: r.name,
            secret_sealed: r.secret_sealed,
            credential_json: r.credential_json,
            last_used_step: r.last_used_step,
            created: r.created,
            last_updated: r.last_updated,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id_hash: String,
    user_id: String,
    csrf_hash: String,
    transaction_id: Option<String>,
    session_hash: Option<String>,
    return_to: Option<String>,
    enroll: i64,
    verified_amr: Option<String>,
    attempts: i64,
    created: i64,
    expires_at: i64,
}

impl From<PendingRow> for PendingSignIn {
    fn from(r: PendingRow) -> Self {
        PendingSignIn {
            id_hash: r.id_hash,
            user_id: r.user_id,
            csrf_hash: r.csrf_hash,
            transaction_id: r.transaction_id,
            session_hash: r.session_hash,
            return_to: r.return_to,
            enroll: r.enroll != 0,
            verified_amr: r
                .verified_amr
                .map(|a| a.split_whitespace().map(str::to_owned).collect()),
            attempts: r.attempts,
            created: r.created,
            expires_at: r.expires_at,
        }
    }
}

macro_rules! impl_factor_store {
    ($db:ty) => {
        #[async_trait]
        impl FactorStore for SqlStore<$db> {
            async fn create_factor(&self, f: &Factor) -> StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO user_factors (",
                    factor_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ))
                .bind(&f.id)
                .bind(&f.user_id)
                .bind(&f.factor_type)
                .bind(&f.provider)
                .bind(f.status.as_str())
                .bind(&f.name)
                .bind(&f.secret_sealed)
                .bind(&f.credential_json)
                .bind(f.last_used_step)
                .bind(f.created)
                .bind(f.last_updated)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_factor(
                &self,
                user_id: &str,
                factor_id: &str,
            ) -> StoreResult<Option<Factor>> {
                let row: Option<FactorRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    factor_cols!(),
                    " FROM user_factors WHERE user_id = $1 AND id = $2"
                ))
                .bind(user_id)
                .bind(factor_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn list_factors(&self, user_id: &str) -> StoreResult<Vec<Factor>> {
                let rows: Vec<FactorRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    factor_cols!(),
                    " FROM user_factors WHERE user_id = $1 ORDER BY created, id"
                ))
                .bind(user_id)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_factor(&self, f: &Factor) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE user_factors SET name = $1, credential_json = $2, \
                     last_updated = $3 WHERE user_id = $4 AND id = $5",
                )
                .bind(&f.name)
                .bind(&f.credential_json)
                .bind(f.last_updated)
                .bind(&f.user_id)
                .bind(&f.id)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn use_totp_step(
                &self,
                user_id: &str,
                factor_id: &str,
                step: i64,
                activate: bool,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let from = if activate {
                    FactorStatus::PendingActivation
                } else {
                    FactorStatus::Active
                };
                // One statement: of concurrent uses of one code, exactly one matches.
                let done = sqlx::query(
                    "UPDATE user_factors SET last_used_step = $1, status = 'ACTIVE', \
                     last_updated = $2 WHERE user_id = $3 AND id = $4 AND status = $5 \
                     AND (last_used_step IS NULL OR last_used_step < $1)",
                )
                .bind(step)
                .bind(now)
                .bind(user_id)
                .bind(factor_id)
                .bind(from.as_str())
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn pass_totp_sign_in(
                &self,
                pass: &TotpPass<'_>,
            ) -> StoreResult<TotpPassOutcome> {
                // The first statement writes, so SQLite takes its write lock at once (no
                // read-then-upgrade that could fail busy); a dropped `tx` rolls back.
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                let taken = sqlx::query(
                    "DELETE FROM mfa_pending WHERE id_hash = $1 AND user_id = $2 \
                     AND expires_at > $3 AND attempts < $4",
                )
                .bind(pass.pending_id_hash)
                .bind(pass.user_id)
                .bind(pass.now)
                .bind(pass.max_pending_attempts)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if taken.rows_affected() != 1 {
                    return Ok(TotpPassOutcome::PendingGone);
                }
                // Without lockout every failure count is under the (absent) budget.
                let budget = pass
                    .max_failures
                    .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
                let spent = sqlx::query(
                    "UPDATE user_factors SET last_used_step = $1, last_updated = $2 \
                     WHERE user_id = $3 AND id = $4 AND status = $5 \
                     AND (last_used_step IS NULL OR last_used_step < $1) \
                     AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND status = $6) \
                     AND COALESCE((SELECT failures FROM signin_failures WHERE user_id = $3), 0) < $7",
                )
                .bind(pass.step)
                .bind(pass.now)
                .bind(pass.user_id)
                .bind(pass.factor_id)
                .bind(FactorStatus::Active.as_str())
                .bind(UserStatus::Active.as_str())
                .bind(budget)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if spent.rows_affected() != 1 {
                    return Ok(TotpPassOutcome::Refused);
                }
                if pass.max_failures.is_some() {
                    sqlx::query("DELETE FROM signin_failures WHERE user_id = $1")
                        .bind(pass.user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(TotpPassOutcome::Passed)
            }

            async fn delete_factor(&self, user_id: &str, factor_id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM user_factors WHERE user_id = $1 AND id = $2")
                    .bind(user_id)
                    .bind(factor_id)
                    .execute(self.pool())
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_user_factors(&self, user_id: &str) -> StoreResult<Vec<Factor>> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let rows: Vec<FactorRow> = sqlx::query_as(concat!(
                    "DELETE FROM user_factors WHERE user_id = $1 RETURNING ",
                    factor_cols!()
                ))
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn replace_recovery_codes(
                &self,
                user_id: &str,
                code_hashes: &[String],
                now: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for hash in code_hashes {
                    sqlx::query(
                        "INSERT INTO recovery_codes (user_id, code_hash, created) \
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn spend_recovery_code(
                &self,
                user_id: &str,
                code_hash: &str,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 \
                     AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(user_id)
                .bind(code_hash)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_recovery_codes(&self, user_id: &str) -> StoreResult<u64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                )
                .bind(user_id)
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn create_pending_sign_in(&self, p: &PendingSignIn) -> StoreResult<()> {
                // Each new one clears the expired, so the table stays as small as the live set;
                // one transaction, so one commit (an fsync on SQLite) for both statements.
                let mut tx = self.pool().begin().await.map_err(db_err)?;
                sqlx::query("DELETE FROM mfa_pending WHERE expires_at <= $1")
                    .bind(p.created)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query(concat!(
                    "INSERT INTO mfa_pending (",
                    pending_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ))
                .bind(&p.id_hash)
                .bind(&p.user_id)
                .bind(&p.csrf_hash)
                .bind(&p.transaction_id)
                .bind(&p.session_hash)
                .bind(&p.return_to)
                .bind(i64::from(p.enroll))
                .bind(p.verified_amr.as_ref().map(|a| a.join(" ")))
                .bind(p.attempts)
                .bind(p.created)
                .bind(p.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn find_pending_sign_in(
                &self,
                id_hash: &str,
                now: Timestamp,
            ) -> StoreResult<Option<PendingSignIn>> {
                let row: Option<PendingRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    pending_cols!(),
                    " FROM mfa_pending WHERE id_hash = $1 AND expires_at > $2"
                ))
                .bind(id_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn record_pending_attempt(&self, id_hash: &str) -> StoreResult<i64> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "UPDATE mfa_pending SET attempts = attempts + 1 WHERE id_hash = $1 \
                     RETURNING attempts",
                )
                .bind(id_hash)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
                Ok(row.map_or(i64::MAX, |(n,)| n))
            }

            async fn mark_pending_verified(
                &self,
                id_hash: &str,
                amr: &[String],
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE mfa_pending SET verified_amr = $1 WHERE id_hash = $2 \
                     AND expires_at > $3",
                )
                .bind(amr.join(" "))
                .bind(id_hash)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn take_pending_sign_in(
                &self,
                id_hash: &str,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done =
                    sqlx::query("DELETE FROM mfa_pending WHERE id_hash = $1 AND expires_at > $2")
                        .bind(id_hash)
                        .bind(now)
                        .execute(self.pool())
                        .await
                        .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn upgrade_session_amr(
                &self,
                session_hash: &str,
                amr: &[String],
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET amr = $1 WHERE id_hash = $2 AND expires_at > $3",
                )
                .bind(to_json(amr)?)
                .bind(session_hash)
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_factor_store!(sqlx::Sqlite);
impl_factor_store!(sqlx::Postgres);
