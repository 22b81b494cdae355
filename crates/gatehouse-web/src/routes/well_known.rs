//! Discovery documents for the org server and every custom server.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oidc::discovery;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::WebError;
use crate::origin::Origin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration_get),
        )
        .route("/.well-known/okta-organization", get(okta_organization))
        .route(
            "/oauth2/{auth_server_id}/.well-known/openid-configuration",
            get(openid_configuration_get),
        )
        .route(
            "/oauth2/{auth_server_id}/.well-known/oauth-authorization-server",
            get(oauth_authorization_server_get),
        )
}

#[derive(Debug, Deserialize)]
pub struct DiscoveryQuery {
    client_id: Option<String>,
}

/// Okta answers an unknown `client_id` on discovery with a 400 in this shape.
async fn check_client_id(state: &AppState, q: &DiscoveryQuery) -> Result<(), Response> {
    let Some(client_id) = q.client_id.as_deref() else {
        return Ok(());
    };
    // A NUL names no client (and PostgreSQL text cannot hold one).
    let found = if client_id.contains('\0') {
        Ok(None)
    } else {
        state.provider.store.find_app_by_client_id(client_id).await
    };
    match found {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"errorCode": "invalid_client", "errorSummary": "Invalid value for `client_id` parameter", "errorLink": "invalid_client", "errorCauses": []})),
        )
            .into_response()),
        Err(e) => Err(WebError::OAuthJson(e.into()).into_response()),
    }
}

/// A discovery document, served from the provider's short-lived cache of serialized documents.
async fn document(
    state: &AppState,
    doc: discovery::Document,
    origin: &str,
    id: Option<&str>,
) -> Response {
    match discovery::document(&state.provider, doc, origin, id).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e @ OAuthError::Internal(_)) => WebError::OAuthJson(e).into_response(),
        Err(e) => {
            let body = json!({"errorCode": "E0000007", "errorSummary": format!("Not found: {}", e.description())});
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}

/// One handler for the org server (`/.well-known/…`) and custom ones (`/oauth2/{id}/.well-known/…`):
/// the server id is the optional path parameter.
async fn openid_configuration_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    Query(q): Query<DiscoveryQuery>,
) -> Response {
    if let Err(r) = check_client_id(&state, &q).await {
        return r;
    }
    let id = path.map(|Path(id)| id);
    document(
        &state,
        discovery::Document::OpenidConfiguration,
        &origin,
        id.as_deref(),
    )
    .await
}

/// Custom servers only (the org server has no such route).
async fn oauth_authorization_server_get(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(id): Path<String>,
    Query(q): Query<DiscoveryQuery>,
) -> Response {
    if let Err(r) = check_client_id(&state, &q).await {
        return r;
    }
    document(
        &state,
        discovery::Document::AuthorizationServerMetadata,
        &origin,
        Some(&id),
    )
    .await
}

/// What Okta's tools (Terraform's provider, the SDKs) read to learn the org's id and which sign-in
/// pipeline it runs.
async fn okta_organization(State(state): State<AppState>, Origin(origin): Origin) -> Response {
    match gatehouse_core::oidc::tokens::org_id(&state.provider).await {
        Ok(id) => Json(json!({
            "id": id,
            "pipeline": "idx",
            "_links": { "organization": { "href": origin } },
        }))
        .into_response(),
        Err(e) => WebError::OAuthJson(e).into_response(),
    }
}
