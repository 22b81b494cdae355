//! `/api/v1/users/{id}/factors`: Okta's Factors API for TOTP (`token:software:totp`, providers
//! `GOOGLE` and `OKTA`), plus listing, reading and resetting any factor (WebAuthn ones too).
//! The rules are in `gatehouse_core::services::mfa`; this file renders Okta's JSON.
//!
//! Reading needs `okta.users.read`, everything else `okta.users.manage` (as the other user
//! routes); changing an administrator's factors is out of reach of API scopes, as changing
//! their account is.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use gatehouse_core::crypto::random_token;
use gatehouse_core::domain::{FACTOR_TYPE_TOTP, FACTOR_TYPE_WEBAUTHN, Factor, User};
use gatehouse_core::services::mfa::{self, MfaError, TotpActivation};
use serde_json::{Value, json};

use super::auth::Caller;
use super::users::{resolve, resolve_for_change};
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, audit, okta_date};
use crate::AppState;
use crate::client_ip::Client;

fn link(href: String, allow: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": allow } })
}

fn factor_json(
    origin: &str,
    user: &User,
    f: &Factor,
    activation: Option<&TotpActivation>,
) -> Value {
    let user_href = format!("{origin}/api/v1/users/{}", user.id);
    let href = format!("{user_href}/factors/{}", f.id);
    let mut links = serde_json::Map::new();
    links.insert("self".into(), link(href.clone(), &["GET", "DELETE"]));
    if f.is_active() {
        links.insert("verify".into(), link(format!("{href}/verify"), &["POST"]));
    } else {
        links.insert(
            "activate".into(),
            link(format!("{href}/lifecycle/activate"), &["POST"]),
        );
    }
    links.insert("user".into(), link(user_href, &["GET"]));
    let profile = if f.factor_type == FACTOR_TYPE_TOTP {
        json!({ "credentialId": user.login })
    } else if f.factor_type == FACTOR_TYPE_WEBAUTHN {
        mfa::webauthn::profile(f)
    } else {
        json!({ "credentialId": f.id, "authenticatorName": f.name })
    };
    let mut out = json!({
        "id": f.id,
        "factorType": f.factor_type,
        "provider": f.provider,
        "vendorName": f.provider,
        "status": f.status.as_str(),
        "created": okta_date(f.created),
        "lastUpdated": okta_date(f.last_updated),
        "profile": profile,
        "_links": links,
    });
    if let (Some(a), Some(map)) = (activation, out.as_object_mut()) {
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
                json!({ "qrcode": {
                    "href": format!("data:image/svg+xml;base64,{data}"),
                    "type": "image/svg+xml",
                } }),
            );
        }
        map.insert("_embedded".into(), json!({ "activation": activation }));
    }
    out
}

/// An Okta error body with its own code (the factor errors `ApiError` has no variant for).
fn okta_error(status: StatusCode, code: &str, summary: &str, cause: &str) -> Response {
    let body = json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", random_token(15)),
        "errorCauses": [{ "errorSummary": cause }],
    });
    (status, Json(body)).into_response()
}

fn mfa_error(e: MfaError, what: &str) -> Result<Response, ApiError> {
    Ok(match e {
        MfaError::NotFound => return Err(ApiError::NotFound(format!("{what} (UserFactor)"))),
        MfaError::AlreadyEnrolled => {
            return Err(ApiError::validation(
                "factorType",
                "There is an existing active factor of this type and provider.",
            ));
        }
        MfaError::Unsupported => {
            return Err(ApiError::validation(
                "factorType",
                "Only token:software:totp (providers GOOGLE and OKTA) can be enrolled through this API.",
            ));
        }
        MfaError::WrongState => {
            return Err(ApiError::validation(
                "status",
                "The factor is not in a state that allows this operation.",
            ));
        }
        MfaError::InvalidPasscode => okta_error(
            StatusCode::FORBIDDEN,
            "E0000068",
            "Invalid Passcode/Answer",
            "Your passcode doesn't match our records. Please try again.",
        ),
        MfaError::Replayed => okta_error(
            StatusCode::FORBIDDEN,
            "E0000082",
            "Each code can only be used once. Please wait for a new code and try again.",
            "PASSCODE_REPLAYED",
        ),
        MfaError::LockedOut => okta_error(
            StatusCode::FORBIDDEN,
            "E0000069",
            "User Locked",
            "The user is locked out or not active.",
        ),
        MfaError::Sealed => return Err(ApiError::Internal(e.to_string())),
        MfaError::Store(s) => return Err(s.into()),
    })
}

/// The `passCode` of an activation or verification body (which may be empty).
fn pass_code(body: &Bytes) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "passCode",
            "The passcode is required.",
        ));
    }
    JsonBody::from_bytes(body)?
        .str_opt("passCode")?
        .ok_or_else(|| ApiError::validation("passCode", "The passcode is required."))
}

#[utoipa::path(get, path = "/api/v1/users/{userId}/factors", tag = "UserFactors", summary = "List a user's factors",
    params(("userId" = String, Path, description = "A user id, login, or `me`")),
    responses((status = 200, description = "The user's factors", body = Vec<super::factors_openapi::UserFactorDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let factors = state.provider.store.list_factors(&user.id).await?;
    let body = factors
        .iter()
        .map(|f| factor_json(&origin, &user, f, None))
        .collect();
    Ok(Json(Value::Array(body)))
}

#[utoipa::path(get, path = "/api/v1/users/{userId}/factors/catalog", tag = "UserFactors", summary = "List the factors a user may enroll",
    params(("userId" = String, Path, description = "A user id, login, or `me`")),
    responses((status = 200, description = "Factor types and providers, with this user's status", body = Vec<super::factors_openapi::CatalogEntryDoc>), super::openapi::ApiErrors))]
pub(crate) async fn catalog(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let factors = state.provider.store.list_factors(&user.id).await?;
    let enroll = format!("{origin}/api/v1/users/{}/factors", user.id);
    let entries: Vec<Value> = [
        (FACTOR_TYPE_TOTP, "GOOGLE"),
        (FACTOR_TYPE_TOTP, "OKTA"),
        (FACTOR_TYPE_WEBAUTHN, "FIDO"),
    ]
    .into_iter()
    .map(|(factor_type, provider)| {
        let mine = factors
            .iter()
            .filter(|f| f.factor_type == factor_type && f.provider == provider);
        let status = if mine.clone().any(Factor::is_active) {
            "ACTIVE"
        } else if mine.clone().next().is_some() {
            "PENDING_ACTIVATION"
        } else {
            "NOT_SETUP"
        };
        json!({
            "factorType": factor_type,
            "provider": provider,
            "vendorName": provider,
            "status": status,
            "enrollment": "OPTIONAL",
            "_links": { "enroll": link(enroll.clone(), &["POST"]) },
        })
    })
    .collect();
    Ok(Json(Value::Array(entries)))
}

#[utoipa::path(get, path = "/api/v1/users/{userId}/factors/{factorId}", tag = "UserFactors", summary = "Get a factor",
    params(("userId" = String, Path, description = "A user id, login, or `me`"), ("factorId" = String, Path, description = "A factor id")),
    responses((status = 200, description = "The factor", body = super::factors_openapi::UserFactorDoc), super::openapi::ApiErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, factor_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let factor = match mfa::find(&state.provider, &user, &factor_id).await {
        Ok(f) => f,
        Err(e) => return mfa_error(e, &factor_id),
    };
    Ok(Json(factor_json(&origin, &user, &factor, None)).into_response())
}

#[utoipa::path(post, path = "/api/v1/users/{userId}/factors", tag = "UserFactors", summary = "Enroll a TOTP factor",
    params(("userId" = String, Path, description = "A user id, login, or `me`"), ("activate" = Option<bool>, Query, description = "Ignored for TOTP (a first code activates it)")),
    request_body = super::factors_openapi::EnrollBody,
    responses((status = 200, description = "The factor, PENDING_ACTIVATION, with its `_embedded.activation`", body = super::factors_openapi::UserFactorDoc), super::openapi::ApiErrors))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    let factor_type = body
        .str_opt("factorType")?
        .ok_or_else(|| ApiError::validation("factorType", "The factor type is required."))?;
    let provider = body
        .str_opt("provider")?
        .ok_or_else(|| ApiError::validation("provider", "The provider is required."))?;
    if factor_type != FACTOR_TYPE_TOTP {
        return mfa_error(MfaError::Unsupported, "");
    }
    if query.bool("activate", false)? {
        // TOTP needs a first code to activate; Okta ignores `activate=true` for it too.
        tracing::debug!("activate=true ignored for a TOTP enrollment");
    }
    let actor = audit::actor(&caller, &client);
    match mfa::enroll_totp(&state.provider, &actor, &user, &provider).await {
        Ok(a) => Ok(Json(factor_json(&origin, &user, &a.factor, Some(&a))).into_response()),
        Err(e) => mfa_error(e, &id),
    }
}

#[utoipa::path(post, path = "/api/v1/users/{userId}/factors/{factorId}/lifecycle/activate", tag = "UserFactors", summary = "Activate a TOTP factor with its first code",
    params(("userId" = String, Path, description = "A user id, login, or `me`"), ("factorId" = String, Path, description = "A factor id")),
    request_body = super::factors_openapi::PassCodeBody,
    responses((status = 200, description = "The factor, ACTIVE (a wrong code: 403 E0000068)", body = super::factors_openapi::UserFactorDoc), super::openapi::ApiErrors))]
pub(crate) async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, factor_id)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    let code = pass_code(&body)?;
    let actor = audit::actor(&caller, &client);
    match mfa::activate_totp(&state.provider, &actor, &user, &factor_id, &code).await {
        Ok(f) => Ok(Json(factor_json(&origin, &user, &f, None)).into_response()),
        Err(e) => mfa_error(e, &factor_id),
    }
}

#[utoipa::path(post, path = "/api/v1/users/{userId}/factors/{factorId}/verify", tag = "UserFactors", summary = "Verify a TOTP code",
    params(("userId" = String, Path, description = "A user id, login, or `me`"), ("factorId" = String, Path, description = "A factor id")),
    request_body = super::factors_openapi::PassCodeBody,
    responses((status = 200, description = "Accepted (wrong: 403 E0000068, replayed: 403 E0000082, locked: 403 E0000069)", body = super::factors_openapi::VerifyResultDoc), super::openapi::ApiErrors))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, factor_id)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    let code = pass_code(&body)?;
    match mfa::verify_totp(&state.provider, &client, &user, &factor_id, &code).await {
        Ok(_) => Ok(Json(json!({ "factorResult": "SUCCESS" })).into_response()),
        Err(e) => mfa_error(e, &factor_id),
    }
}

/// Resets (removes) one factor: 204 without a body or a JSON content type.
#[utoipa::path(delete, path = "/api/v1/users/{userId}/factors/{factorId}", tag = "UserFactors", summary = "Reset (remove) a factor",
    params(("userId" = String, Path, description = "A user id, login, or `me`"), ("factorId" = String, Path, description = "A factor id")),
    responses((status = 204, description = "Removed"), super::openapi::ApiErrors))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, factor_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    match mfa::delete_factor(&state.provider, &actor, &user, &factor_id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => mfa_error(e, &factor_id),
    }
}
