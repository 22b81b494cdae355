//! `POST /api/v1/authn/factors/{factorId}/verify` for a WebAuthn factor (Okta's shapes): the
//! `stateToken` alone answers `MFA_CHALLENGE` with `_embedded.factor._embedded.challenge`; with
//! `clientData`, `authenticatorData` and `signatureData` it answers `SUCCESS`. The rules are in
//! `gatehouse_core::services::authn_webauthn`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::audit::ClientInfo;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::services::authn_webauthn::{self, Assertion};
use gatehouse_core::services::mfa::challenge::ChallengeError;
use gatehouse_core::services::mfa::webauthn::{self, WebauthnFailure};
use gatehouse_core::services::mfa::webauthn_challenge::StepError;
use serde_json::{Value, json};

use super::authn::{internal, no_store, okta_error, string_field, success};
use crate::AppState;

fn refused(e: StepError) -> Response {
    match e {
        StepError::Invalid => okta_error(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        ),
        StepError::Webauthn(WebauthnFailure::Store(e)) => internal(&OAuthError::internal(e)),
        StepError::Webauthn(WebauthnFailure::State(why)) => {
            internal(&OAuthError::internal(WebauthnFailure::State(why)))
        }
        // A wrong or foreign assertion, no ceremony to answer: a wrong answer, as a wrong code.
        StepError::Webauthn(_) => {
            okta_error(StatusCode::FORBIDDEN, "E0000068", "Invalid Passcode/Answer")
        }
    }
}

/// The verify call's answer when `factor_id` is one of the step's WebAuthn factors; `None`
/// otherwise (the TOTP path answers, and refuses what is neither).
pub(crate) async fn verify(
    state: &AppState,
    origin: &str,
    client: &ClientInfo,
    factor_id: &str,
    body: &Value,
) -> Option<Response> {
    let state_token = string_field(body, "stateToken").unwrap_or_default();
    let factor =
        match authn_webauthn::webauthn_factor(&state.provider, client, &state_token, factor_id)
            .await
        {
            Ok(Some(f)) => f,
            Ok(None) | Err(ChallengeError::Invalid | ChallengeError::Wrong) => return None,
            Err(ChallengeError::Internal(e)) => return Some(internal(&OAuthError::internal(e))),
        };
    let rp = match webauthn::relying_party(origin, &state.config.branding.org_name) {
        Ok(rp) => rp,
        Err(e) => return Some(refused(StepError::Webauthn(e))),
    };
    let field = |name| string_field(body, name).unwrap_or_default();
    let (client_data, authenticator_data, signature_data) = (
        field("clientData"),
        field("authenticatorData"),
        field("signatureData"),
    );
    if client_data.is_empty() && authenticator_data.is_empty() && signature_data.is_empty() {
        let challenge =
            match authn_webauthn::challenge(&state.provider, client, &rp, &state_token).await {
                Ok(c) => c,
                Err(e) => return Some(refused(e)),
            };
        let verify = format!("{origin}/api/v1/authn/factors/{}/verify", factor.id);
        let body = json!({
            "stateToken": state_token,
            "status": "MFA_CHALLENGE",
            "factorResult": "CHALLENGE",
            "_embedded": {
                "factor": {
                    "id": factor.id,
                    "factorType": factor.factor_type,
                    "provider": factor.provider,
                    "vendorName": factor.provider,
                    "profile": webauthn::profile(&factor),
                    "_embedded": { "challenge": challenge },
                },
            },
            "_links": {
                "next": { "name": "verify", "href": verify, "hints": { "allow": ["POST"] } },
            },
        });
        return Some(no_store((StatusCode::OK, axum::Json(body)).into_response()));
    }
    let given = Assertion {
        client_data: &client_data,
        authenticator_data: &authenticator_data,
        signature_data: &signature_data,
    };
    Some(
        match authn_webauthn::verify(&state.provider, client, &rp, &state_token, &factor, given)
            .await
        {
            Ok(done) => success(&done),
            Err(e) => refused(e),
        },
    )
}
