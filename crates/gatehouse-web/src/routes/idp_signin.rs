//! Signing in through an upstream identity provider: the sign-in page's "Sign in with X"
//! buttons (`POST /login/idp`) and the upstream's answer at Okta's callback path
//! (`GET /oauth2/v1/authorize/callback`), and the public JWKS of an IdP's `private_key_jwt`
//! client key (`GET /oauth2/v1/idps/{id}/keys`), for upstreams that fetch it.
//! The rules are in `gatehouse_core::services::idps`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::oauth2::authorize::LoginFailure;
use gatehouse_core::services::idps::callback::{self, CallbackParams};
use gatehouse_core::services::idps::start::CALLBACK_PATH;
use gatehouse_core::services::idps::{client_key, form};
use serde::Deserialize;

use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/idp", post(button))
        .route(CALLBACK_PATH, get(callback))
        .route("/oauth2/v1/idps/{id}/keys", get(client_keys))
}

/// The IdP's client public key as a JWKS; 404 for an unknown IdP or one without a key (the
/// same answer, so the endpoint does not list IdP ids).
async fn client_keys(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let found = state.provider.store.find_idp(&id).await;
    match found {
        Ok(Some(idp)) if idp.settings.client_key.is_some() => (
            [(header::CACHE_CONTROL, "max-age=300")],
            Json(client_key::public_jwks(&idp)),
        )
            .into_response(),
        Ok(_) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "an IdP's client keys could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ButtonForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idp: String,
}

/// A 303 to the upstream, or the failure's page.
pub(crate) fn to_upstream(sent: Result<String, LoginFailure>) -> Result<Response, WebError> {
    match sent {
        Ok(url) => Ok(super::console::see_other(&url)),
        Err(LoginFailure::Internal(e)) => Err(WebError::Page(e)),
        Err(_) => Err(WebError::Page(gatehouse_core::oauth2::OAuthError::InvalidRequest(
            "This sign-in request has expired or is not valid. Return to the application and sign in again.".into(),
        ))),
    }
}

async fn button(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: ButtonForm = super::oauth2::parse_form(&body)
        .map_err(|_| WebError::BadRequest("The sign-in form is malformed.".into()))?;
    let sent = form::begin_from_form(
        &state.provider,
        &form.tx,
        &form.csrf,
        cookies::get(&headers, cookies::CSRF),
        &form.idp,
        None,
    )
    .await;
    to_upstream(sent)
}

async fn callback(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Result<Response, WebError> {
    let outcome = callback::complete(
        &state.provider,
        &client,
        &params,
        cookies::get(&headers, cookies::CSRF),
    )
    .await;
    match outcome {
        Ok(done) => super::mfa::after_sign_in(&state, &origin, &client, done).await,
        Err(e) => super::login::failed(&state, &origin, e).await,
    }
}
