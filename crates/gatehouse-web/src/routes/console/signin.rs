//! Signing in to the console and the dashboard on the hosted sign-in page (Okta's
//! `/login/login.htm?fromURI=…`), and signing out (`/login/signout`).

use crate::client_ip::Client;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use gatehouse_core::crypto::{constant_time_eq, random_token};
use gatehouse_core::oauth2::authorize::GENERIC_LOGIN_FAILURE;
use gatehouse_core::services::{admin_roles, remembered_device, sessions, sign_in, sign_on_gate};
use serde::Deserialize;

use super::{ConsoleError, Form, safe_from_uri, see_other};
use crate::AppState;
use crate::cookies;
use crate::origin::Origin;
use crate::views::{LoginPage, render_page};
use askama::Template as _;

/// The sign-in form's double-submit CSRF cookie (apart from the authorize flow's, so a console
/// sign-in in one tab does not spoil an app's sign-in in another).
pub(crate) const LOGIN_CSRF: &str = "gh_login_csrf";
/// How long the sign-in form stays usable (seconds).
const FORM_TTL: i64 = 1800;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/login.htm", get(form_get).post(form_post))
        .route("/login/signout", get(signout).post(signout))
        .route("/admin", get(admin_home))
        .route("/admin/", get(admin_home))
        .route("/admin/dashboard", get(super::apps::dashboard))
}

#[derive(Debug, Default, Deserialize)]
struct FromQuery {
    #[serde(rename = "fromURI", default)]
    from_uri: String,
}

async fn admin_home() -> Response {
    see_other("/admin/dashboard")
}

fn sign_in_page(
    state: &AppState,
    origin: &str,
    status: StatusCode,
    csrf: &str,
    from_uri: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let action = format!("{origin}/login/login.htm");
    let page = LoginPage {
        action: &action,
        app_label: "",
        transaction_id: "",
        csrf_token: csrf,
        username,
        error,
        branding: &state.config.branding,
        from_uri: Some(from_uri),
        idps: &[],
        idp_action: "",
        password_optional: false,
    };
    let mut res = render_page(status, page.render(), None);
    let cookie = cookies::set(LOGIN_CSRF, csrf, FORM_TTL, origin);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn form_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<FromQuery>,
) -> Response {
    let from = query.from_uri;
    let from = safe_from_uri(&from).unwrap_or("/app/UserHome");
    sign_in_page(
        &state,
        &origin,
        StatusCode::OK,
        &random_token(24),
        from,
        "",
        None,
    )
}

async fn form_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = Form::parse(&body);
    let from = safe_from_uri(form.get("fromURI"))
        .unwrap_or("/app/UserHome")
        .to_owned();
    let sent = form.get("csrf");
    let cookie = cookies::get(&headers, LOGIN_CSRF).unwrap_or_default();
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), cookie.as_bytes()) {
        return Err(ConsoleError::BadCsrf);
    }
    // The username field keeps what was typed; the password never goes back to the page.
    let raw_username = form.raw("username");
    let password = form.raw("password");
    let signed_in = sign_in::sign_in_with_password(
        &state.provider,
        &client,
        raw_username,
        password,
        sent,
        &from,
        cookies::get(&headers, remembered_device::COOKIE),
    )
    .await
    .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let done = match signed_in {
        Some(sign_in::SignInStep::Done(done)) => Some(*done),
        Some(sign_in::SignInStep::SecondFactor { pending }) => {
            let prompt = gatehouse_core::oauth2::authorize::FactorPrompt {
                pending,
                csrf_token: sent.to_owned(),
                app_label: String::new(),
            };
            return crate::routes::mfa::factor_page(
                &state,
                &origin,
                &client,
                &prompt,
                None,
                StatusCode::OK,
            )
            .await
            .map_err(|e| ConsoleError::Internal(e.to_string()));
        }
        Some(sign_in::SignInStep::Denied) => {
            return Ok(sign_in_page(
                &state,
                &origin,
                StatusCode::FORBIDDEN,
                &random_token(24),
                &from,
                raw_username,
                Some(sign_on_gate::DENIED_MESSAGE),
            ));
        }
        None => None,
    };
    let Some(done) = done else {
        return Ok(sign_in_page(
            &state,
            &origin,
            StatusCode::UNAUTHORIZED,
            &random_token(24),
            &from,
            raw_username,
            Some(GENERIC_LOGIN_FAILURE),
        ));
    };
    // Someone who is not an administrator lands on their dashboard rather than a 403.
    let target = if from.starts_with("/admin")
        && !admin_roles::is_super_admin(&state.provider, &done.user).await?
    {
        "/app/UserHome".to_owned()
    } else {
        from
    };
    let mut res = see_other(&target);
    let h = res.headers_mut();
    let mut set = cookies::set_session(&done.session_cookie, done.session_ttl, &origin);
    set.push(cookies::clear(LOGIN_CSRF, &origin));
    for cookie in set {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

/// Ends the session (GET as Okta's link does: signing someone out is harmless) and shows the
/// sign-in page.
async fn signout(
    State(state): State<AppState>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    sessions::end(&state.provider, cookies::session(&headers))
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let mut res = see_other("/login/login.htm");
    for cookie in cookies::clear_session(&origin) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}
