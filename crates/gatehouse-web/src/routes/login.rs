//! The hosted sign-in form: its page (with a "Sign in with X" button per active identity
//! provider) and its submission. A username whose email domain an IdP routes (Okta's IdP
//! discovery) goes to that IdP instead of the password check.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::authorize::{
    self, GENERIC_LOGIN_FAILURE, LoginCookies, LoginFailure, LoginPrompt,
};
use gatehouse_core::services::idps::{form, start};
use gatehouse_core::services::remembered_device;
use serde::Deserialize;

use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::{LoginPage, PasswordExpiredPage, render_page};
use askama::Template as _;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login_post))
        .route("/login/password-expired", post(expired_post))
}

#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The authorize flow's sign-in page for `prompt`, with the CSRF cookie set.
pub(crate) async fn login_page(
    state: &AppState,
    origin: &str,
    prompt: &LoginPrompt,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    // The buttons are a convenience: a store hiccup shows the page without them.
    let (idps, routing) = start::sign_in_options(&state.provider)
        .await
        .unwrap_or_default();
    let action = format!("{origin}/login");
    let idp_action = format!("{origin}/login/idp");
    let page = LoginPage {
        action: &action,
        app_label: &prompt.app_label,
        transaction_id: &prompt.transaction_id,
        csrf_token: &prompt.csrf_token,
        username: prompt.login_hint.as_deref().unwrap_or_default(),
        error,
        branding: &state.config.branding,
        from_uri: None,
        idps: &idps,
        idp_action: &idp_action,
        password_optional: routing,
    };
    let mut res = render_page(status, page.render(), None);
    let cookie = cookies::set(
        cookies::CSRF,
        &prompt.csrf_token,
        state.provider.lifetimes.login_transaction,
        origin,
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: LoginForm = super::oauth2::parse_form(&body)
        .map_err(|_| WebError::BadRequest("The sign-in form is malformed.".into()))?;
    let cookie_csrf = cookies::get(&headers, cookies::CSRF);
    if let Some(idp) = start::route_for_login(&state.provider, &form.username)
        .await
        .map_err(WebError::Page)?
    {
        let username = form.username.trim();
        let sent = form::begin_from_form(
            &state.provider,
            &form.tx,
            &form.csrf,
            cookie_csrf,
            &idp.id,
            Some(username),
        )
        .await;
        return super::idp_signin::to_upstream(sent);
    }
    let outcome = authorize::complete_login(
        &state.provider,
        &client,
        &form.tx,
        &form.csrf,
        LoginCookies {
            csrf: cookie_csrf,
            device: cookies::get(&headers, remembered_device::COOKIE),
        },
        &form.username,
        &form.password,
    )
    .await;
    match outcome {
        Ok(done) => super::mfa::after_sign_in(&state, &origin, &client, done).await,
        Err(e) => failed(&state, &origin, e).await,
    }
}

/// A sign-in that did not complete: the form again with the generic message, or an error page.
pub(crate) async fn failed(
    state: &AppState,
    origin: &str,
    failure: LoginFailure,
) -> Result<Response, WebError> {
    match failure {
        LoginFailure::PasswordExpired(prompt) => {
            let action = format!("{origin}/login/password-expired");
            let page = PasswordExpiredPage {
                action: &action,
                prompt: &prompt,
                branding: &state.config.branding,
            };
            let status = if prompt.error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            Ok(render_page(status, page.render(), None))
        }
        LoginFailure::BadCredentials(prompt) => Ok(login_page(
            state,
            origin,
            &prompt,
            Some(GENERIC_LOGIN_FAILURE),
            StatusCode::UNAUTHORIZED,
        )
        .await),
        LoginFailure::TransactionInvalid => Err(WebError::Page(OAuthError::InvalidRequest(
            "This sign-in request has expired or is not valid. Return to the application and sign in again.".into(),
        ))),
        LoginFailure::Internal(e) => Err(WebError::Page(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ExpiredForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "stateToken")]
    state_token: String,
    #[serde(default, rename = "newPassword")]
    new_password: String,
    #[serde(default, rename = "confirmPassword")]
    confirm_password: String,
}

/// The expired-password step: a new password through the policy, then the sign-in goes on.
async fn expired_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: ExpiredForm = super::oauth2::parse_form(&body)
        .map_err(|_| WebError::BadRequest("The form is malformed.".into()))?;
    let outcome = authorize::complete_expired_password(
        &state.provider,
        &client,
        &form.tx,
        &form.csrf,
        LoginCookies {
            csrf: cookies::get(&headers, cookies::CSRF),
            device: cookies::get(&headers, remembered_device::COOKIE),
        },
        &form.state_token,
        &form.new_password,
        &form.confirm_password,
    )
    .await;
    match outcome {
        Ok(done) => super::mfa::after_sign_in(&state, &origin, &client, done).await,
        Err(other) => failed(&state, &origin, other).await,
    }
}
