//! The second step of Okta's classic Authentication API (issue 19): after `POST /api/v1/authn`
//! answered `MFA_REQUIRED` or `MFA_ENROLL` with a `stateToken`, the client verifies a TOTP
//! code (`POST /api/v1/authn/factors/{factorId}/verify`), or enrolls a TOTP factor
//! (`POST /api/v1/authn/factors`) and activates it with its first code
//! (`.../lifecycle/activate`), and gets a `sessionToken` whose session carries the factor.
//!
//! The `stateToken` is the hosted factor page's pending step
//! ([`crate::services::mfa::challenge`]) with the token it is bound to, so the same rules
//! apply: stored only as hashes, 10 minutes at most, five wrong answers, each also counted
//! toward the account's lockout, one completion.

use crate::audit::ClientInfo;
use crate::services::authn::{AuthnSuccess, issue_session_token};
use crate::services::mfa::TotpActivation;
use crate::services::mfa::challenge::{self, Answer, ChallengeError, Passed};

/// The pending step's value and its binding, from a `stateToken`.
pub(crate) fn split(state_token: &str) -> Result<(&str, &str), ChallengeError> {
    state_token
        .trim()
        .split_once('.')
        .filter(|(p, b)| !p.is_empty() && !b.is_empty())
        .ok_or(ChallengeError::Invalid)
}

pub(crate) async fn answer(
    provider: &crate::provider::Provider,
    client: &ClientInfo,
    state_token: &str,
    given: Answer<'_>,
) -> Result<Passed, ChallengeError> {
    let (pending, binding) = split(state_token)?;
    challenge::answer(provider, client, pending, binding, Some(binding), given).await
}

pub(crate) async fn success(
    provider: &crate::provider::Provider,
    passed: Passed,
) -> Result<AuthnSuccess, ChallengeError> {
    match passed {
        Passed::Done { user, amr, .. } => Ok(issue_session_token(provider, *user, amr).await?),
        Passed::ShowRecoveryCodes { .. } => Err(ChallengeError::Invalid),
    }
}

/// `MFA_REQUIRED` → `SUCCESS`: a code of the person's TOTP factor `factor_id`.
pub async fn verify(
    provider: &crate::provider::Provider,
    client: &ClientInfo,
    state_token: &str,
    factor_id: &str,
    code: &str,
) -> Result<AuthnSuccess, ChallengeError> {
    let passed = answer(
        provider,
        client,
        state_token,
        Answer::Totp { factor_id, code },
    )
    .await?;
    success(provider, passed).await
}

/// `MFA_ENROLL` → `MFA_ENROLL_ACTIVATE`: the TOTP factor being enrolled (a new seed, or the
/// one already pending on this step), with what an authenticator app needs.
pub async fn enroll(
    provider: &crate::provider::Provider,
    client: &ClientInfo,
    state_token: &str,
) -> Result<TotpActivation, ChallengeError> {
    let (pending, binding) = split(state_token)?;
    challenge::load(provider, client, pending, binding, Some(binding))
        .await?
        .enrollment
        .ok_or(ChallengeError::Invalid)
}

/// `MFA_ENROLL_ACTIVATE` → `SUCCESS`: the new factor's first code. Its recovery codes are made
/// (the dashboard shows a new set on demand); the API has no state to show them in.
pub async fn activate(
    provider: &crate::provider::Provider,
    client: &ClientInfo,
    state_token: &str,
    code: &str,
) -> Result<AuthnSuccess, ChallengeError> {
    match answer(provider, client, state_token, Answer::Enroll { code }).await? {
        Passed::ShowRecoveryCodes { .. } => {
            let passed = answer(provider, client, state_token, Answer::Continue).await?;
            success(provider, passed).await
        }
        done => success(provider, done).await,
    }
}
