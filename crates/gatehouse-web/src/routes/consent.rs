//! The consent page (shown by the authorize endpoint or after sign-in) and its answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::authorize::{self, ConsentAnswer, ConsentFailure, ConsentPrompt};
use serde::Deserialize;

use super::respond_to_client;
use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::{ConsentPage, render_page};
use askama::Template as _;

pub const PATH: &str = "/login/consent";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(consent_post))
}

/// Renders the consent page and sets its CSRF cookie; `extra` cookies go along (the session
/// just opened by a sign-in).
pub(crate) fn consent_page(
    state: &AppState,
    origin: &str,
    prompt: &ConsentPrompt,
    extra: Vec<String>,
) -> Response {
    let action = format!("{origin}{PATH}");
    let page = ConsentPage {
        action: &action,
        prompt,
        branding: &state.config.branding,
    };
    let mut res = render_page(StatusCode::OK, page.render(), None);
    let csrf = cookies::set(
        cookies::CSRF,
        &prompt.csrf_token,
        state.provider.lifetimes.login_transaction,
        origin,
    );
    for cookie in extra.into_iter().chain([csrf]) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Debug, Default, Deserialize)]
struct ConsentForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

async fn consent_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: ConsentForm = super::oauth2::parse_form(&body)
        .map_err(|_| WebError::BadRequest("The consent form is malformed.".into()))?;
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => {
            return Err(WebError::BadRequest(
                "The consent form names no decision.".into(),
            ));
        }
    };
    let answer = ConsentAnswer {
        transaction_id: &form.tx,
        form_csrf: &form.csrf,
        cookie_csrf: cookies::get(&headers, cookies::CSRF),
        session_cookie: cookies::session(&headers),
        allow,
    };
    match authorize::complete_consent(&state.provider, &client, answer).await {
        Ok(response) => {
            let csrf = cookies::clear(cookies::CSRF, &origin);
            Ok(respond_to_client(&response, vec![(header::SET_COOKIE, csrf)]))
        }
        Err(ConsentFailure::TransactionInvalid) => Err(WebError::Page(OAuthError::InvalidRequest(
            "This consent request has expired or is not valid. Return to the application and sign in again.".into(),
        ))),
        Err(ConsentFailure::Internal(e)) => Err(WebError::Page(e)),
    }
}
