//! The hosted self-service pages: "Forgot password?" (`/signin/forgot-password`), the reset
//! page a mailed link opens (`/signin/reset-password/{token}`) and the activation page
//! (`/welcome/{token}`), where a new user chooses their first password.
//!
//! Forms carry a double-submit CSRF token (an HttpOnly cookie and a hidden field, compared in
//! constant time). "Forgot password?" answers the same, at once, for every username: the
//! lookup, the link and the mail happen on a task of their own, so neither the words nor the
//! timing tell whether an account exists.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use gatehouse_core::audit::Actor;
use gatehouse_core::crypto::{constant_time_eq, random_token};
use gatehouse_core::services::rate_limit::{self, RatePolicy};
use gatehouse_core::services::system_log::ClientInfo;
use gatehouse_core::services::user_links::{self, LinkError};
use gatehouse_core::store::LinkPurpose;
use serde::Deserialize;

use crate::client_ip::Client;
use crate::cookies;
use crate::origin::Origin;
use crate::views::{MessagePage, render_page};
use crate::{AppState, Branding};

const CSRF_COOKIE: &str = "gh_recovery_csrf";
const FORM_TTL: i64 = 1800;
/// Reset mails per user per hour (more requests get the same answer and no mail).
pub const FORGOT_PER_USER_PER_HOUR: u32 = 5;
/// The answer to every "Forgot password?" request.
pub const FORGOT_ANSWER: &str = "If the username or email address matches an account, a mail \
    with a link to reset its password is on its way. The link can be used once and expires soon.";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin/forgot-password", get(forgot_get).post(forgot_post))
        .route(
            "/signin/reset-password/{token}",
            get(reset_get).post(reset_post),
        )
        .route("/welcome/{token}", get(welcome_get).post(welcome_post))
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage<'a> {
    action: &'a str,
    csrf_token: &'a str,
    sent: Option<&'a str>,
    branding: &'a Branding,
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    title: &'a str,
    button: &'a str,
    action: &'a str,
    csrf_token: &'a str,
    login: &'a str,
    error: Option<&'a str>,
    branding: &'a Branding,
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct PasswordSetPage<'a> {
    title: &'a str,
    branding: &'a Branding,
}

#[derive(Debug, Default, Deserialize)]
struct Form {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// A page with a fresh CSRF token in its form and cookie.
fn with_csrf(
    status: StatusCode,
    origin: &str,
    render: impl FnOnce(&str) -> Result<String, askama::Error>,
) -> Response {
    let csrf = random_token(24);
    let mut res = render_page(status, render(&csrf), None);
    if let Ok(v) = HeaderValue::from_str(&cookies::set(CSRF_COOKIE, &csrf, FORM_TTL, origin)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn csrf_ok(headers: &HeaderMap, form: &Form) -> bool {
    let cookie = cookies::get(headers, CSRF_COOKIE).unwrap_or_default();
    !form.csrf.is_empty() && constant_time_eq(form.csrf.as_bytes(), cookie.as_bytes())
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

fn expired_page() -> Response {
    message(
        StatusCode::GONE,
        "This link is not valid",
        "It has expired or has been used already. Ask for a new one.",
    )
}

fn stale_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "The form has expired",
        "Open the link again and submit the form from there.",
    )
}

// ---- Forgot password? ----

async fn forgot_get(State(state): State<AppState>, Origin(origin): Origin) -> Response {
    let action = format!("{origin}/signin/forgot-password");
    with_csrf(StatusCode::OK, &origin, |csrf| {
        ForgotPage {
            action: &action,
            csrf_token: csrf,
            sent: None,
            branding: &state.config.branding,
        }
        .render()
    })
}

async fn forgot_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(form) = super::oauth2::parse_form::<Form>(&body) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form is malformed.",
        );
    };
    if !csrf_ok(&headers, &form) {
        return stale_form();
    }
    let username = form.username.trim().to_owned();
    if !username.is_empty() {
        let provider = state.provider.clone();
        let state2 = state.clone();
        let origin2 = origin.clone();
        tokio::spawn(async move {
            send_reset_link(&state2, &provider, &client, &username, &origin2).await;
        });
    }
    let action = format!("{origin}/signin/forgot-password");
    render_page(
        StatusCode::OK,
        ForgotPage {
            action: &action,
            csrf_token: "",
            sent: Some(FORGOT_ANSWER),
            branding: &state.config.branding,
        }
        .render(),
        None,
    )
}

/// The work behind "Forgot password?", off the request: find the user, count the request
/// against their hourly budget, issue a link and mail it. Nothing is ever shown to the
/// requester, and without SMTP nothing is sent (an administrator prints links with the CLI).
async fn send_reset_link(
    state: &AppState,
    provider: &gatehouse_core::Provider,
    client: &ClientInfo,
    username: &str,
    origin: &str,
) {
    let user = match user_links::find_for_recovery(provider, username).await {
        Ok(Some(u)) => u,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "forgot password: lookup failed");
            return;
        }
    };
    let bucket = format!("forgot-user:{}", user.id);
    let policy = RatePolicy {
        limit: FORGOT_PER_USER_PER_HOUR,
        window_secs: 3600,
    };
    match rate_limit::hit(provider, &bucket, policy).await {
        Ok(w) if w.exceeded => {
            tracing::info!(user_id = %user.id, "forgot password: hourly budget spent, no mail");
            return;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "forgot password: rate limit not counted"),
    }
    if !provider.mail.is_configured() {
        return;
    }
    let actor = Actor::user(&user, client);
    match user_links::forgot_password(provider, &actor, &user).await {
        // With mail configured `deliver` sends and returns nothing: the link never comes back here.
        Ok(Some(link)) => drop(crate::mail::deliver(state, &user, link, origin, true)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "forgot password: no link issued"),
    }
}

// ---- reset and activation links ----

struct Kind {
    purpose: LinkPurpose,
    title: &'static str,
    button: &'static str,
    done: &'static str,
    path: &'static str,
}

const RESET: Kind = Kind {
    purpose: LinkPurpose::PasswordReset,
    title: "Choose a new password",
    button: "Reset password",
    done: "Password reset",
    path: "/signin/reset-password",
};

const WELCOME: Kind = Kind {
    purpose: LinkPurpose::Activation,
    title: "Activate your account",
    button: "Set password and activate",
    done: "Account activated",
    path: "/welcome",
};

fn form_page(
    state: &AppState,
    origin: &str,
    kind: &Kind,
    token: &str,
    login: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let action = format!("{origin}{}/{token}", kind.path);
    with_csrf(status, origin, |csrf| {
        SetPasswordPage {
            title: kind.title,
            button: kind.button,
            action: &action,
            csrf_token: csrf,
            login,
            error,
            branding: &state.config.branding,
        }
        .render()
    })
}

async fn link_get(state: AppState, origin: String, kind: &Kind, token: String) -> Response {
    match user_links::peek(&state.provider, &token, kind.purpose).await {
        Ok(Some(user)) => form_page(
            &state,
            &origin,
            kind,
            &token,
            &user.login,
            StatusCode::OK,
            None,
        ),
        Ok(None) => expired_page(),
        Err(e) => {
            tracing::warn!(error = %e, "one-time link lookup failed");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "Try again in a moment.",
            )
        }
    }
}

async fn link_post(
    state: AppState,
    origin: String,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
    kind: &Kind,
    token: String,
) -> Response {
    let Ok(form) = super::oauth2::parse_form::<Form>(&body) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form is malformed.",
        );
    };
    if !csrf_ok(&headers, &form) {
        return stale_form();
    }
    let login = match user_links::peek(&state.provider, &token, kind.purpose).await {
        Ok(Some(user)) => user.login,
        _ => return expired_page(),
    };
    let again = |error: &str| {
        form_page(
            &state,
            &origin,
            kind,
            &token,
            &login,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
        )
    };
    if form.password != form.confirm {
        return again("The two passwords are not the same.");
    }
    let done = user_links::complete(
        &state.provider,
        &client,
        &token,
        kind.purpose,
        form.password,
    )
    .await;
    match done {
        Ok(_) => {
            let html = PasswordSetPage {
                title: kind.done,
                branding: &state.config.branding,
            }
            .render();
            let mut res = render_page(StatusCode::OK, html, None);
            if let Ok(v) = HeaderValue::from_str(&cookies::clear(CSRF_COOKIE, &origin)) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(LinkError::Refused(why)) => again(&format!("Password requirements not met: {why}")),
        Err(LinkError::Invalid) => expired_page(),
        Err(LinkError::Other(e)) => {
            tracing::warn!(error = %e, "setting a password through a link failed");
            again("The password could not be set. Try again.")
        }
    }
}

async fn reset_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(token): Path<String>,
) -> Response {
    link_get(state, origin, &RESET, token).await
}

async fn reset_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    link_post(state, origin, client, headers, body, &RESET, token).await
}

async fn welcome_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(token): Path<String>,
) -> Response {
    link_get(state, origin, &WELCOME, token).await
}

async fn welcome_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    link_post(state, origin, client, headers, body, &WELCOME, token).await
}
