//! Okta's classic Authentication API: `POST /api/v1/authn` (primary authentication, answering
//! a `sessionToken`) and `GET /login/sessionCookieRedirect` (trading the token for the session
//! cookie). `sessionToken` at `/authorize` is handled in the authorize pipeline. Thin: the
//! rules are in `gatehouse_core::services::authn`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::crypto::random_token;
use gatehouse_core::domain::User;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::services::authn::{self, AuthnOutcome};
use gatehouse_core::services::remembered_device;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::routes::api_v1::okta_date;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authn", post(authn_post))
        .route(
            "/api/v1/authn/credentials/change_password",
            post(super::authn_expired::change_password_post),
        )
        .merge(super::authn_factors::router())
        .route("/login/sessionCookieRedirect", get(session_cookie_redirect))
}

/// Okta's error body (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`).
pub(crate) fn okta_error(status: StatusCode, code: &str, summary: &str) -> Response {
    let body = json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", random_token(16)),
        "errorCauses": [],
    });
    no_store((status, axum::Json(body)).into_response())
}

pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// 401 `E0000004`: the one answer for every refused sign-in.
pub(crate) fn authentication_failed() -> Response {
    okta_error(
        StatusCode::UNAUTHORIZED,
        "E0000004",
        "Authentication failed",
    )
}

/// 429 `E0000047`, for the per-address sign-in budget (`throttle`).
pub(crate) fn rate_limited() -> Response {
    okta_error(
        StatusCode::TOO_MANY_REQUESTS,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
    )
}

/// 503: the database (or an imported user's source org) cannot answer now.
pub(crate) fn unavailable() -> Response {
    okta_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "E0000009",
        "Service temporarily unavailable. Try again later.",
    )
}

pub(crate) fn internal(e: &OAuthError) -> Response {
    match e {
        OAuthError::TemporarilyUnavailable(why) => {
            tracing::warn!(error = %why, "/api/v1/authn answered 503");
            unavailable()
        }
        OAuthError::Internal(_) if e.is_unavailable() => {
            tracing::warn!(error = %e, "database unavailable: /api/v1/authn answered 503");
            unavailable()
        }
        _ => {
            tracing::error!(error = %e, "internal error in /api/v1/authn");
            okta_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "E0000009",
                "Internal Server Error",
            )
        }
    }
}

pub(crate) fn string_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

async fn authn_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return okta_error(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        );
    };
    // A missing field is refused like a wrong password (nothing to learn from the answer).
    let (Some(username), Some(password)) = (
        string_field(&body, "username"),
        string_field(&body, "password"),
    ) else {
        return authentication_failed();
    };
    match authn::primary_authentication(&state.provider, &client, &username, &password).await {
        Ok(AuthnOutcome::Success(done)) => success(&done),
        Ok(AuthnOutcome::Factor(step)) => super::authn_factors::factor_state(&origin, &step),
        Ok(AuthnOutcome::PasswordExpired {
            state_token,
            expires_at,
            user,
        }) => {
            super::authn_expired::password_expired(&state, &origin, &state_token, expires_at, &user)
                .await
        }
        Ok(AuthnOutcome::Refused) => authentication_failed(),
        Err(e) => internal(&e),
    }
}

/// Okta's `_embedded.user` of an authentication transaction.
pub(crate) fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "passwordChanged": u.password_changed.map(okta_date),
        "profile": {
            "login": u.login,
            "firstName": u.first_name,
            "lastName": u.last_name,
            "locale": "en_US",
            "timeZone": "America/Los_Angeles",
        },
    })
}

/// `SUCCESS` with a `sessionToken`.
pub(crate) fn success(done: &authn::AuthnSuccess) -> Response {
    let body = json!({
        "expiresAt": okta_date(done.expires_at),
        "status": "SUCCESS",
        "sessionToken": done.session_token,
        "_embedded": { "user": user_json(&done.user) },
    });
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct CookieRedirect {
    token: Option<String>,
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
}

async fn session_cookie_redirect(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    Query(q): Query<CookieRedirect>,
) -> Result<Response, WebError> {
    let redirect = q.redirect_url.unwrap_or_default();
    // The destination is checked before the token is spent: a refused one costs nothing.
    let allowed = authn::redirect_allowed(&state.provider, &origin, &redirect)
        .await
        .map_err(WebError::Page)?;
    if !allowed {
        return Err(WebError::Page(OAuthError::InvalidRequest(
            "The redirectUrl is not a trusted origin of this org.".into(),
        )));
    }
    let opened = authn::open_session_for_redirect(
        &state.provider,
        &client,
        q.token.as_deref().unwrap_or_default(),
        cookies::get(&headers, remembered_device::COOKIE),
    )
    .await
    .map_err(WebError::Page)?
    .ok_or_else(|| {
        WebError::Page(OAuthError::AccessDenied(
            "The session token is invalid, expired or already used.".into(),
        ))
    })?;
    let mut res = (StatusCode::FOUND, [(header::LOCATION, redirect)]).into_response();
    for cookie in cookies::set_session(&opened.cookie, state.provider.lifetimes.session, &origin) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(no_store(res))
}
