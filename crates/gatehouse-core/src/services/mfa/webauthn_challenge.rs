//! A WebAuthn factor as an answer to the sign-in's second step ([`super::challenge`]).
//!
//! The browser calls begin and finish with the pending step's value and the sign-in form's
//! CSRF token, checked as for the other answers ([`super::challenge::load`]). The ceremony is
//! bound to the pending step. A verified assertion marks the step verified with WebAuthn's
//! `amr` ([`super::webauthn::amr`]); the page then submits the step's "continue", which opens
//! the session as after any other factor. A refused assertion counts toward the account's
//! lockout and the step's budget of wrong answers, as a wrong code does.

use serde_json::Value;

use crate::audit::ClientInfo;
use crate::provider::Provider;
use crate::services::lockout::{self, FactorAttempt};

use super::MfaError;
use super::challenge::{self, ChallengeError};
use super::webauthn::{self, PublicKeyCredential, Webauthn, WebauthnFailure};

/// The pending step's value and the CSRF tokens that must match it.
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub token: &'a str,
    pub form_csrf: &'a str,
    pub cookie_csrf: Option<&'a str>,
}

/// Why a WebAuthn answer to the second step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step is gone, expired, used, or its CSRF binding does not match: start again.
    #[error("this sign-in has expired; start again")]
    Invalid,
    #[error(transparent)]
    Webauthn(#[from] WebauthnFailure),
}

impl From<ChallengeError> for StepError {
    fn from(e: ChallengeError) -> Self {
        match e {
            ChallengeError::Internal(MfaError::Store(s)) => Self::Webauthn(s.into()),
            ChallengeError::Internal(other) => {
                Self::Webauthn(WebauthnFailure::State(other.to_string()))
            }
            ChallengeError::Invalid | ChallengeError::Wrong => Self::Invalid,
        }
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Webauthn(e.into())
    }
}

/// The request options for the step's user's passkeys.
pub async fn begin(
    provider: &Provider,
    client: &ClientInfo,
    rp: &Webauthn,
    step: StepRef<'_>,
) -> Result<Value, StepError> {
    let c = challenge::load(
        provider,
        client,
        step.token,
        step.form_csrf,
        step.cookie_csrf,
    )
    .await?;
    if c.pending.verified_amr.is_some() {
        return Err(StepError::Invalid);
    }
    Ok(webauthn::begin_authentication(provider, rp, &c.user, &c.pending.id_hash).await?)
}

/// Verifies the assertion and marks the step verified. Returns whether the authenticator
/// verified the person (`amr` `user`).
pub async fn finish(
    provider: &Provider,
    client: &ClientInfo,
    rp: &Webauthn,
    step: StepRef<'_>,
    response: &PublicKeyCredential,
) -> Result<bool, StepError> {
    let c = challenge::load(
        provider,
        client,
        step.token,
        step.form_csrf,
        step.cookie_csrf,
    )
    .await?;
    if c.pending.verified_amr.is_some() {
        return Err(StepError::Invalid);
    }
    let user = &c.user;
    let attempt = lockout::begin_factor_attempt(provider, &user.id).await?;
    let verified = match attempt {
        FactorAttempt::Refused => Err(WebauthnFailure::Rejected),
        FactorAttempt::Counted(_) => {
            webauthn::finish_authentication(provider, rp, user, &c.pending.id_hash, response).await
        }
    };
    let outcome: Result<(), MfaError> = match &verified {
        Ok(_) => Ok(()),
        Err(WebauthnFailure::Store(_) | WebauthnFailure::State(_)) => {
            // The server's failure, not a wrong answer: not logged as one (the attempt stays
            // counted until the next success, as when a request dies mid-way).
            return Err(verified
                .err()
                .map_or(StepError::Invalid, StepError::Webauthn));
        }
        Err(_) if matches!(attempt, FactorAttempt::Refused) => Err(MfaError::LockedOut),
        Err(_) => Err(MfaError::InvalidPasscode),
    };
    let factor = verified.as_ref().ok().map(|v| &v.factor);
    super::finish_attempt(provider, client, user, factor, attempt, &outcome)
        .await
        .map_err(|e| StepError::Webauthn(WebauthnFailure::State(e.to_string())))?;
    match verified {
        Ok(v) => {
            let amr = webauthn::amr(v.user_verified);
            if !provider
                .store
                .mark_pending_verified(&c.pending.id_hash, &amr, provider.now())
                .await?
            {
                return Err(StepError::Invalid);
            }
            Ok(v.user_verified)
        }
        Err(e) => {
            let n = provider
                .store
                .record_pending_attempt(&c.pending.id_hash)
                .await?;
            if n >= challenge::MAX_ATTEMPTS {
                provider
                    .store
                    .take_pending_sign_in(&c.pending.id_hash, provider.now())
                    .await?;
                return Err(StepError::Invalid);
            }
            Err(e.into())
        }
    }
}
