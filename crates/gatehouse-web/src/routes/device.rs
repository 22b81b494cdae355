//! RFC 8628: the device authorization endpoint (`/oauth2/v1/device/authorize`,
//! `/oauth2/{authServerId}/v1/device/authorize`) and the hosted `/activate` page where the
//! user enters the code, signs in (through the hosted sign-in form) and approves or denies.
//!
//! `/activate`'s forms carry a double-submit CSRF token (a random value in an HttpOnly cookie
//! and a hidden field, compared in constant time).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::crypto::{constant_time_eq, random_token};
use gatehouse_core::oauth2::client_throttle::ClientAuthGuard;
use gatehouse_core::oauth2::device;
use gatehouse_core::oauth2::grants::TokenParams;
use gatehouse_core::services::device_activation::{self, ActivationError, ActivationPrompt};
use gatehouse_core::services::sessions::{self, CurrentSession};
use serde::Deserialize;

use super::authorization_header;
use super::oauth2::{client_error, no_store_json, parse_form, throttled};
use crate::AppState;
use crate::client_ip::{Client, ClientIp};
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::{ActivatePage, MessagePage, render_page};
use askama::Template as _;

/// `/activate`'s CSRF cookie, apart from the sign-in forms' ones.
const ACTIVATE_CSRF: &str = "gh_device_csrf";
/// How long an `/activate` form stays usable (seconds).
const FORM_TTL: i64 = 1800;

pub fn router() -> Router<AppState> {
    Router::new()
        // One handler for the org server and custom ones: the server id is the optional path
        // parameter, not a wrapper per route.
        .route("/oauth2/v1/device/authorize", post(device_authorize))
        .route("/oauth2/{as}/v1/device/authorize", post(device_authorize))
        .route("/activate", get(activate_get).post(activate_post))
}

// ---- device authorization endpoint ----

async fn device_authorize(
    State(state): State<AppState>,
    Origin(origin): Origin,
    server_id: Option<Path<String>>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let id = server_id.map(|Path(id)| id);
    let ctx = state
        .provider
        .server_context(&origin, id.as_deref())
        .await
        .map_err(WebError::OAuthJson)?;
    let params: TokenParams = parse_form(&body).map_err(WebError::OAuthJson)?;
    let authorization = authorization_header(&headers);
    let guard = ClientAuthGuard::new(&params.credentials(authorization), client.ip.as_deref());
    let response = throttled(
        &state,
        &guard,
        device::device_authorize(&state.provider, &ctx, &params, authorization),
    )
    .await
    .map_err(client_error(&headers))?;
    Ok(no_store_json(response))
}

// ---- /activate ----

#[derive(Debug, Default, Deserialize)]
struct ActivateQuery {
    #[serde(default)]
    user_code: String,
}

/// What `/activate` answers with: a page (with a fresh CSRF cookie when it has a form) or a
/// redirect to the hosted sign-in.
fn page(
    state: &AppState,
    origin: &str,
    status: StatusCode,
    user_code: &str,
    error: Option<&str>,
    prompt: Option<&ActivationPrompt>,
) -> Response {
    let csrf = random_token(24);
    let action = format!("{origin}/activate");
    let html = ActivatePage {
        action: &action,
        csrf_token: &csrf,
        user_code,
        error,
        prompt,
        branding: &state.config.branding,
    }
    .render();
    let mut res = render_page(status, html, None);
    if let Ok(v) = HeaderValue::from_str(&cookies::set(ACTIVATE_CSRF, &csrf, FORM_TTL, origin)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render_page(
        status,
        MessagePage {
            title,
            message: text,
        }
        .render(),
        None,
    )
}

/// To the hosted sign-in, and back to `/activate` with the (checked) code once signed in.
fn sign_in_first(user_code: &str) -> Response {
    let back = format!("/activate?user_code={user_code}");
    let location = format!(
        "/login/login.htm?fromURI={}",
        url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
    );
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<CurrentSession>, Response> {
    sessions::current(&state.provider, cookies::session(headers))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
            )
        })
}

/// An activation failure as a page: a wrong code back to the form, a spent budget 429.
fn failure(state: &AppState, origin: &str, typed: &str, e: ActivationError) -> Response {
    match e {
        ActivationError::InvalidCode => page(
            state,
            origin,
            StatusCode::BAD_REQUEST,
            typed,
            Some(&e.to_string()),
            None,
        ),
        ActivationError::Throttled { retry_after } => {
            let mut res = page(
                state,
                origin,
                StatusCode::TOO_MANY_REQUESTS,
                "",
                Some(&e.to_string()),
                None,
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        ActivationError::NotAllowed(why) => {
            message(StatusCode::FORBIDDEN, "Device not activated", &why)
        }
        ActivationError::Internal(e) => {
            tracing::error!(error = %e, "device activation failed");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
            )
        }
    }
}

async fn activate_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    Query(query): Query<ActivateQuery>,
    headers: HeaderMap,
) -> Response {
    let typed = query.user_code.trim();
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    // Back from the sign-in with a code: straight to the confirmation.
    if session.is_some() && !typed.is_empty() {
        return match device_activation::prompt(&state.provider, &ip.to_string(), typed).await {
            Ok(prompt) => page(&state, &origin, StatusCode::OK, typed, None, Some(&prompt)),
            Err(e) => failure(&state, &origin, typed, e),
        };
    }
    page(&state, &origin, StatusCode::OK, typed, None, None)
}

async fn activate_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let sent = field("csrf");
    let cookie = cookies::get(&headers, ACTIVATE_CSRF).unwrap_or_default();
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), cookie.as_bytes()) {
        return message(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form has expired or was not sent from this site. Go back and try again.",
        );
    }
    let typed = field("user_code");
    let address = ip.to_string();
    let session = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let approve = match field("decision") {
        "" => None,
        "approve" => Some(true),
        _ => Some(false),
    };
    let Some(approve) = approve else {
        // The code step: checked (and counted) before anyone is asked to sign in.
        return match device_activation::prompt(&state.provider, &address, typed).await {
            Ok(prompt) if session.is_none() => sign_in_first(&prompt.user_code),
            Ok(prompt) => page(&state, &origin, StatusCode::OK, typed, None, Some(&prompt)),
            Err(e) => failure(&state, &origin, typed, e),
        };
    };
    let Some(current) = session else {
        return sign_in_first(typed);
    };
    match device_activation::decide(
        &state.provider,
        &address,
        typed,
        &current.user,
        &current.session,
        approve,
    )
    .await
    {
        Ok(prompt) if approve => message(
            StatusCode::OK,
            "Device activated",
            &format!(
                "{} is now signed in. You can return to your device.",
                prompt.app_label
            ),
        ),
        Ok(_) => message(
            StatusCode::OK,
            "Device not activated",
            "You denied the request. The device will not be signed in.",
        ),
        Err(e) => failure(&state, &origin, typed, e),
    }
}
