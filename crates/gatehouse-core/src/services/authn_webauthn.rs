//! A WebAuthn factor at `POST /api/v1/authn/factors/{factorId}/verify` (Okta's classic
//! Authentication API, `factorType: webauthn`): the call with the `stateToken` alone answers
//! `MFA_CHALLENGE` with a challenge for the person's keys; the call with the browser's
//! assertion (`clientData`, `authenticatorData`, `signatureData`, base64url) verifies it and
//! answers `SUCCESS` with a `sessionToken` whose session carries WebAuthn's `amr`.
//!
//! The same ceremony as the hosted factor page ([`crate::services::mfa::webauthn_challenge`]),
//! bound to the pending step the `stateToken` names: a refused assertion counts toward the
//! lockout and the step's budget of wrong answers.

use serde_json::{Value, json};

use crate::audit::ClientInfo;
use crate::domain::{FACTOR_TYPE_WEBAUTHN, Factor};
use crate::provider::Provider;
use crate::services::authn::AuthnSuccess;
use crate::services::authn_mfa::{answer, split, success};
use crate::services::mfa::challenge::{self, Answer, ChallengeError};
use crate::services::mfa::webauthn::{self, PublicKeyCredential, Webauthn, WebauthnFailure};
use crate::services::mfa::webauthn_challenge::{self, StepError, StepRef};

/// The browser's answer, as Okta's verify body carries it (base64url fields).
#[derive(Debug, Clone, Copy)]
pub struct Assertion<'a> {
    pub client_data: &'a str,
    pub authenticator_data: &'a str,
    pub signature_data: &'a str,
}

/// The step's user's active WebAuthn factor `factor_id`, if that is what it is (`None`: the
/// TOTP path answers).
pub async fn webauthn_factor(
    provider: &Provider,
    client: &ClientInfo,
    state_token: &str,
    factor_id: &str,
) -> Result<Option<Factor>, ChallengeError> {
    let (pending, binding) = split(state_token)?;
    let c = challenge::load(provider, client, pending, binding, Some(binding)).await?;
    Ok(c.factors
        .into_iter()
        .find(|f| f.id == factor_id && f.factor_type == FACTOR_TYPE_WEBAUTHN && f.is_active()))
}

fn step(state_token: &str) -> Result<StepRef<'_>, StepError> {
    let (pending, binding) = split(state_token)?;
    Ok(StepRef {
        token: pending,
        form_csrf: binding,
        cookie_csrf: Some(binding),
    })
}

/// `MFA_REQUIRED` → `MFA_CHALLENGE`: Okta's `challenge` object (`challenge`, `extensions`)
/// and the key's credential id, from the ceremony's request options.
pub async fn challenge(
    provider: &Provider,
    client: &ClientInfo,
    rp: &Webauthn,
    state_token: &str,
) -> Result<Value, StepError> {
    let options = webauthn_challenge::begin(provider, client, rp, step(state_token)?).await?;
    let public_key = &options["publicKey"];
    Ok(json!({
        "challenge": public_key["challenge"],
        "extensions": public_key.get("extensions").cloned().unwrap_or_else(|| json!({})),
        "userVerification": public_key["userVerification"],
    }))
}

/// `MFA_CHALLENGE` → `SUCCESS`: verifies the assertion made with `factor`'s key.
pub async fn verify(
    provider: &Provider,
    client: &ClientInfo,
    rp: &Webauthn,
    state_token: &str,
    factor: &Factor,
    given: Assertion<'_>,
) -> Result<AuthnSuccess, StepError> {
    // Okta's body names no credential: it is the factor's.
    let credential_id = webauthn::profile(factor)["credentialId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let credential: PublicKeyCredential = serde_json::from_value(json!({
        "id": credential_id,
        "rawId": credential_id,
        "type": "public-key",
        "response": {
            "clientDataJSON": given.client_data,
            "authenticatorData": given.authenticator_data,
            "signature": given.signature_data,
            "userHandle": null,
        },
        "extensions": {},
    }))
    .map_err(|_| StepError::Webauthn(WebauthnFailure::Rejected))?;
    webauthn_challenge::finish(provider, client, rp, step(state_token)?, &credential).await?;
    let passed = answer(provider, client, state_token, Answer::Continue).await?;
    Ok(success(provider, passed).await?)
}
