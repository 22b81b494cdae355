//! `/api/v1/sessions/me`: the browser's own sign-in session, by its cookie (no API token).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::sessions::{self, CurrentSession};
use gatehouse_core::services::trusted_origins;
use serde_json::{Value, json};

use super::{ApiError, ApiOrigin, okta_date};
use crate::AppState;
use crate::cookies;

fn session_json(origin: &str, s: &CurrentSession) -> Value {
    let me = format!("{origin}/api/v1/sessions/me");
    json!({
        "id": s.id,
        "userId": s.user.id,
        "login": s.user.login,
        "createdAt": okta_date(s.session.created),
        "expiresAt": okta_date(s.session.expires_at),
        "status": "ACTIVE",
        "lastPasswordVerification": okta_date(s.session.auth_time),
        "lastFactorVerification": null,
        "amr": s.session.amr,
        "idp": { "id": s.org_id, "type": "OKTA" },
        "mfaActive": s.session.amr.iter().any(|a| a == "mfa"),
        "_links": {
            "self": { "href": me, "hints": { "allow": ["GET", "DELETE"] } },
            "user": {
                "name": s.user.full_name(),
                "href": format!("{origin}/api/v1/users/{}", s.user.id),
                "hints": { "allow": ["GET"] },
            },
        },
    })
}

/// Whether the browser's `Origin` is Gatehouse's own (the public URL without its path).
fn same_origin(from: &str, origin: &str) -> bool {
    url::Url::parse(origin).is_ok_and(|u| u.origin().ascii_serialization() == from)
}

fn no_session() -> ApiError {
    ApiError::NotFound("me (Session)".into())
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions/me",
    tag = "Sessions",
    summary = "The browser's own sign-in session (by its cookie)",
    responses(
        (status = 200, description = "The session", body = super::openapi::SessionDoc),
        super::openapi::SessionErrors,
    ),
    security(()),
)]
pub(crate) async fn get_me(
    State(state): State<AppState>,
    ApiOrigin(origin): ApiOrigin,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cookie = cookies::session(&headers);
    let current = sessions::current(&state.provider, cookie)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(no_session)?;
    Ok(Json(session_json(&origin, &current)).into_response())
}

/// Ends the session and clears its cookie: `204`, or `404` when there was none. Over https the
/// cookie goes along with cross-site requests (`SameSite=None`), so a request from another
/// origin is honoured only from a trusted origin (CORS); others get `403` and end nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/me",
    tag = "Sessions",
    summary = "End the browser's own session",
    responses(
        (status = 204, description = "Ended"),
        super::openapi::SessionErrors,
    ),
    security(()),
)]
pub(crate) async fn delete_me(
    State(state): State<AppState>,
    ApiOrigin(origin): ApiOrigin,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(from) = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        && !same_origin(from, &origin)
        && !trusted_origins::allows_cors(&state.provider, from)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
    {
        return Err(ApiError::Forbidden(
            "The origin is not a trusted origin (CORS).".into(),
        ));
    }
    let cookie = cookies::session(&headers);
    let ended = sessions::end(&state.provider, cookie)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ended {
        return Err(no_session());
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    for cookie in cookies::clear_session(&origin) {
        if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
            res.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    Ok(res)
}
