//! `/api/v1/sessions/me`: the browser's own sign-in session, by its cookie (no API token).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::sessions::{self, CurrentSession};
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
    let cookie = cookies::get(&headers, cookies::SESSION);
    let current = sessions::current(&state.provider, cookie)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(no_session)?;
    Ok(Json(session_json(&origin, &current)).into_response())
}

/// Ends the session and clears its cookie: `204`, or `404` when there was none.
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
    let cookie = cookies::get(&headers, cookies::SESSION);
    let ended = sessions::end(&state.provider, cookie)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ended {
        return Err(no_session());
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            axum::http::header::SET_COOKIE,
            cookies::clear(cookies::SESSION, &origin),
        )],
    )
        .into_response())
}
