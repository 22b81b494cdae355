//! Storage interface of WebAuthn ceremonies ([`WebauthnStore`]): the state a registration or an
//! authentication keeps between its begin and finish requests, and the update of a credential
//! after it was used. Re-exported by [`crate::store`], whose [`crate::store::Store`] includes it.
//!
//! The state lives in the database, not in a node's memory or the browser, so any node can
//! finish a ceremony another began, and each one can be finished once.

use async_trait::async_trait;

use crate::domain::Timestamp;
use crate::store_error::StoreResult;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Enrolling a new credential (the dashboard, bound to the session).
    Register,
    /// Answering the factor challenge (bound to the pending sign-in).
    Authenticate,
}

impl CeremonyPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Authenticate => "authenticate",
        }
    }
}

/// One begun ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCeremony {
    /// SHA-256 of what it is bound to: the session cookie (registration) or the pending
    /// sign-in's value (authentication). Only the holder of that can finish it.
    pub binding_hash: String,
    pub purpose: CeremonyPurpose,
    pub user_id: String,
    /// `webauthn-rs`'s serialised registration or authentication state (challenge, allowed
    /// credentials, policy).
    pub state_json: String,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// Ceremony state and credential use. Both spends are single conditional statements: of
/// concurrent requests on any node exactly one takes a ceremony, and a signature counter only
/// moves forward.
#[async_trait]
pub trait WebauthnStore: Send + Sync {
    /// Stores the ceremony, replacing an earlier one with the same binding and purpose (a
    /// second "begin" makes the first unusable), and drops expired ones.
    async fn put_webauthn_ceremony(&self, ceremony: &WebauthnCeremony) -> StoreResult<()>;
    /// Takes (deletes) the ceremony with this binding and purpose and returns it if it had not
    /// expired at `now`; `None` for an unknown, used or expired one.
    async fn take_webauthn_ceremony(
        &self,
        binding_hash: &str,
        purpose: CeremonyPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<WebauthnCeremony>>;
    /// After a verified assertion: writes the ACTIVE `webauthn` factor's credential, its
    /// signature `counter` (kept in `last_used_step`) and `last_updated`, in one statement that
    /// applies only if the counter is 0 (an authenticator that does not count) or greater than
    /// the last one recorded. False when it did not apply: a replayed or cloned authenticator's
    /// counter, or a factor removed meanwhile.
    async fn record_webauthn_use(
        &self,
        user_id: &str,
        factor_id: &str,
        counter: u32,
        credential_json: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
}
