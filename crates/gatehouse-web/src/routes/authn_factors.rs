//! Okta's classic Authentication API, second step (issue 19): the `MFA_REQUIRED` and
//! `MFA_ENROLL` states of `POST /api/v1/authn`, and
//! `POST /api/v1/authn/factors/{factorId}/verify` (a TOTP code here, a WebAuthn factor's
//! challenge and assertion in `authn_webauthn`), `POST /api/v1/authn/factors` (enroll a TOTP
//! factor) and `POST /api/v1/authn/factors/{factorId}/lifecycle/activate`, each with the
//! `stateToken`. The rules are in `gatehouse_core::services::authn_mfa`.
//!
//! A wrong, replayed or stale code answers 403 `E0000068` (counted toward the lockout); an
//! unknown, expired, used or exhausted `stateToken` 401 `E0000011`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use gatehouse_core::domain::{FACTOR_TYPE_TOTP, Factor};
use gatehouse_core::services::authn::AuthnFactorStep;
use gatehouse_core::services::authn_mfa;
use gatehouse_core::services::mfa::{self, TotpActivation, challenge::ChallengeError};
use serde_json::{Value, json};

use super::authn::{internal, no_store, okta_error, string_field, success, user_json};
use crate::AppState;
use crate::client_ip::Client;
use crate::origin::Origin;
use crate::routes::api_v1::okta_date;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authn/factors", post(enroll))
        .route("/api/v1/authn/factors/{factor_id}/verify", post(verify))
        .route(
            "/api/v1/authn/factors/{factor_id}/lifecycle/activate",
            post(activate),
        )
}

fn link(href: String) -> Value {
    json!({ "href": href, "hints": { "allow": ["POST"] } })
}

fn factor_json(origin: &str, login: &str, f: &Factor) -> Value {
    let profile = if f.factor_type == FACTOR_TYPE_TOTP {
        json!({ "credentialId": login })
    } else {
        mfa::webauthn::profile(f)
    };
    json!({
        "id": f.id,
        "factorType": f.factor_type,
        "provider": f.provider,
        "vendorName": f.provider,
        "profile": profile,
        "_links": { "verify": link(format!("{origin}/api/v1/authn/factors/{}/verify", f.id)) },
    })
}

/// The answer of `POST /api/v1/authn` when a factor is needed: `MFA_REQUIRED` with the
/// person's factors (each with its `verify` link), or `MFA_ENROLL` with what may be enrolled.
pub(crate) fn factor_state(origin: &str, step: &AuthnFactorStep) -> Response {
    let (status, factors) = if step.enroll {
        let totp = json!({
            "factorType": FACTOR_TYPE_TOTP,
            "provider": "GOOGLE",
            "vendorName": "GOOGLE",
            "status": "NOT_SETUP",
            "enrollment": "REQUIRED",
            "_links": { "enroll": link(format!("{origin}/api/v1/authn/factors")) },
        });
        ("MFA_ENROLL", vec![totp])
    } else {
        let listed = step
            .factors
            .iter()
            .map(|f| factor_json(origin, &step.user.login, f))
            .collect();
        ("MFA_REQUIRED", listed)
    };
    let body = json!({
        "stateToken": step.state_token,
        "expiresAt": okta_date(step.expires_at),
        "status": status,
        "_embedded": {
            "user": user_json(&step.user),
            "factors": factors,
            "policy": {
                "allowRememberDevice": false,
                "rememberDeviceLifetimeInMinutes": 0,
                "rememberDeviceByDefault": false,
            },
        },
    });
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

fn refused(e: ChallengeError) -> Response {
    match e {
        ChallengeError::Wrong => {
            okta_error(StatusCode::FORBIDDEN, "E0000068", "Invalid Passcode/Answer")
        }
        ChallengeError::Invalid => okta_error(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        ),
        ChallengeError::Internal(e) => internal(&gatehouse_core::oauth2::OAuthError::internal(e)),
    }
}

/// The JSON body's `stateToken` (and `passCode`); a body that is not JSON has neither.
fn fields(body: &Bytes) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    (
        string_field(&v, "stateToken").unwrap_or_default(),
        string_field(&v, "passCode").unwrap_or_default(),
    )
}

async fn verify(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    Path(factor_id): Path<String>,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(res) =
        super::authn_webauthn::verify(&state, &origin, &client, &factor_id, &json).await
    {
        return res;
    }
    let (state_token, code) = fields(&body);
    match authn_mfa::verify(&state.provider, &client, &state_token, &factor_id, &code).await {
        Ok(done) => success(&done),
        Err(e) => refused(e),
    }
}

fn activation_json(a: &TotpActivation) -> Value {
    let mut activation = json!({
        "timeStep": mfa::totp::STEP_SECONDS,
        "sharedSecret": a.shared_secret,
        "encoding": "base32",
        "keyLength": a.shared_secret.len(),
    });
    if let (Some(svg), Some(m)) = (&a.qr_svg, activation.as_object_mut()) {
        let data = base64::engine::general_purpose::STANDARD.encode(svg.as_bytes());
        m.insert(
            "_links".into(),
            json!({ "qrcode": { "href": format!("data:image/svg+xml;base64,{data}"), "type": "image/svg+xml" } }),
        );
    }
    activation
}

async fn enroll(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let state_token = string_field(&v, "stateToken").unwrap_or_default();
    let wanted = (
        string_field(&v, "factorType").unwrap_or_default(),
        string_field(&v, "provider").unwrap_or_default(),
    );
    if wanted.0 != FACTOR_TYPE_TOTP || !mfa::TOTP_PROVIDERS.contains(&wanted.1.as_str()) {
        return okta_error(
            StatusCode::BAD_REQUEST,
            "E0000001",
            "Api validation failed: factorType (only token:software:totp with GOOGLE or OKTA)",
        );
    }
    let a = match authn_mfa::enroll(&state.provider, &client, &state_token).await {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let f = &a.factor;
    let activate = format!("{origin}/api/v1/authn/factors/{}/lifecycle/activate", f.id);
    let body = json!({
        "stateToken": state_token,
        "status": "MFA_ENROLL_ACTIVATE",
        "factorResult": "WAITING",
        "_embedded": {
            "factor": {
                "id": f.id,
                "factorType": f.factor_type,
                "provider": f.provider,
                "vendorName": f.provider,
                "profile": { "credentialId": "" },
                "_embedded": { "activation": activation_json(&a) },
            },
        },
        "_links": { "next": { "name": "activate", "href": activate, "hints": { "allow": ["POST"] } } },
    });
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

async fn activate(
    State(state): State<AppState>,
    Client(client): Client,
    Path(_factor_id): Path<String>,
    body: Bytes,
) -> Response {
    let (state_token, code) = fields(&body);
    match authn_mfa::activate(&state.provider, &client, &state_token, &code).await {
        Ok(done) => success(&done),
        Err(e) => refused(e),
    }
}
