//! Storage interface of multi-factor sign-in ([`FactorStore`]): users' factors, their
//! recovery codes and sign-ins waiting for a second factor. Re-exported by [`crate::store`],
//! whose [`crate::store::Store`] includes it.

use async_trait::async_trait;

use crate::domain::{Factor, PendingSignIn, Timestamp};
use crate::store_error::StoreResult;

/// Factors, recovery codes and pending second steps. Every single-use thing (a TOTP time
/// step, a recovery code, a pending sign-in) is spent by one conditional statement, so of
/// concurrent requests on any node exactly one succeeds. A deleted user's rows go with them.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// `NotFound` when the user does not exist; `Conflict` when the id is taken.
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()>;
    async fn find_factor(&self, user_id: &str, factor_id: &str) -> StoreResult<Option<Factor>>;
    /// The user's factors, oldest first.
    async fn list_factors(&self, user_id: &str) -> StoreResult<Vec<Factor>>;
    /// Writes the factor's name, credential and `last_updated` (a WebAuthn sign counter, a
    /// rename). `NotFound` when the user has no such factor.
    async fn update_factor(&self, factor: &Factor) -> StoreResult<()>;
    /// Records TOTP time step `step` as used, and makes the factor `ACTIVE` when `activate`,
    /// only if no later or equal step was used before: false for a replayed (or older) code.
    /// `activate` applies only to a `PENDING_ACTIVATION` factor; otherwise the factor must be
    /// `ACTIVE`.
    async fn use_totp_step(
        &self,
        user_id: &str,
        factor_id: &str,
        step: i64,
        activate: bool,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// `NotFound` when the user has no such factor.
    async fn delete_factor(&self, user_id: &str, factor_id: &str) -> StoreResult<()>;
    /// Removes every factor and recovery code of the user (Okta's "reset all factors");
    /// returns the factors removed.
    async fn delete_user_factors(&self, user_id: &str) -> StoreResult<Vec<Factor>>;

    /// Replaces the user's recovery codes (their keyed hashes) in one transaction.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        code_hashes: &[String],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Marks the unused code spent; true for exactly one caller.
    async fn spend_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// How many unused recovery codes the user has.
    async fn count_recovery_codes(&self, user_id: &str) -> StoreResult<u64>;

    /// Stores a pending sign-in (and drops expired ones).
    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> StoreResult<()>;
    /// The pending sign-in, if it has not expired at `now`.
    async fn find_pending_sign_in(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>>;
    /// Counts one wrong answer on it; the attempts so far.
    async fn record_pending_attempt(&self, id_hash: &str) -> StoreResult<i64>;
    /// Records that the factor was given (`verified_amr`); false when it is gone or expired.
    async fn mark_pending_verified(
        &self,
        id_hash: &str,
        amr: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Takes (deletes) an unexpired pending sign-in: true for exactly one caller, who then
    /// completes the sign-in.
    async fn take_pending_sign_in(&self, id_hash: &str, now: Timestamp) -> StoreResult<bool>;
    /// Sets the `amr` of a session live at `now` (a step-up); false when it is gone.
    async fn upgrade_session_amr(
        &self,
        session_hash: &str,
        amr: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
}
