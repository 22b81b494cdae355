//! Storage interface of multi-factor sign-in ([`FactorStore`]): users' factors, their
//! recovery codes and sign-ins waiting for a second factor. Re-exported by [`crate::store`],
//! whose [`crate::store::Store`] includes it.

use async_trait::async_trait;

use crate::domain::{Factor, PendingSignIn, Timestamp};
use crate::store_error::StoreResult;

/// The sign-in step [`FactorStore::pass_totp_sign_in`] completes.
#[derive(Debug, Clone, Copy)]
pub struct TotpPass<'a> {
    /// The pending sign-in (its `id_hash`): it must be unexpired at `now`, the user's, and
    /// have fewer than `max_pending_attempts` wrong answers.
    pub pending_id_hash: &'a str,
    pub max_pending_attempts: i64,
    pub user_id: &'a str,
    /// An `ACTIVE` TOTP factor of the user, whose last used step must be older than `step`.
    pub factor_id: &'a str,
    pub step: i64,
    /// The lockout's `max_attempts`: the user's recorded failures must be fewer. `None` when
    /// lockout is off (nothing is counted, nothing is cleared).
    pub max_failures: Option<u64>,
    pub now: Timestamp,
}

/// What [`FactorStore::pass_totp_sign_in`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpPassOutcome {
    /// Written: the pending sign-in is taken, the step spent, the failures cleared.
    Passed,
    /// The pending sign-in is gone, expired, someone else's or out of attempts.
    PendingGone,
    /// The step (or a later one) was used before, the factor is not active, or the user is
    /// not `ACTIVE` or at the lockout's budget.
    Refused,
}

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
    /// A sign-in's second step passed with a TOTP code, all or nothing in ONE transaction
    /// (one commit, where the separate writes cost one each): takes the pending sign-in, spends
    /// the code's time step as [`Self::use_totp_step`] does, and clears the user's sign-in
    /// failures, only while the user is `ACTIVE` and under the lockout's budget. The budget is
    /// checked in the same transaction as the spend, so a code is never accepted past it.
    /// Nothing is written unless the outcome is [`TotpPassOutcome::Passed`].
    async fn pass_totp_sign_in(&self, pass: &TotpPass<'_>) -> StoreResult<TotpPassOutcome>;
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
