//! Microsoft Entra ID's path layout (`https://login.microsoftonline.com/{tenant}/…`) on the
//! org authorization server, so clients written for Entra (python-social-auth's `azuread-*`
//! backends) sign in with only the host changed. Every endpoint hands over to the Okta paths'
//! handler with an Entra-flavoured [`ServerContext`] (see `gatehouse_core::oidc::entra`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::ServerContext;
use gatehouse_core::oauth2::authorize::AuthorizeParams;
use gatehouse_core::oauth2::client_auth::ClientCredentials;
use gatehouse_core::oauth2::grants::TokenParams;
use gatehouse_core::oidc::entra::{self, EntraVersion};
use gatehouse_core::oidc::logout::LogoutParams;
use serde_json::{Value, json};

use super::authorization_header;
use super::oauth2::{
    FormOrQuery, authorize_with, jwks_response, logout_with, no_store_json, parse_form, token_with,
};
use crate::AppState;
use crate::client_ip::{Client, ClientIp};
use crate::error::WebError;
use crate::origin::Origin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/authorize",
            get(authorize::<false>).post(authorize::<false>),
        )
        .route("/{tenant}/oauth2/token", post(token::<false>))
        .route(
            "/{tenant}/oauth2/logout",
            get(logout::<false>).post(logout::<false>),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::<true>).post(authorize::<true>),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token::<true>))
        .route(
            "/{tenant}/oauth2/v2.0/logout",
            get(logout::<true>).post(logout::<true>),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(openid_configuration::<false>),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration::<true>),
        )
        .route("/{tenant}/discovery/keys", get(keys::<false>))
        .route("/{tenant}/discovery/v2.0/keys", get(keys::<true>))
}

const fn version(v2: bool) -> EntraVersion {
    if v2 {
        EntraVersion::V2
    } else {
        EntraVersion::V1
    }
}

async fn context(
    state: &AppState,
    origin: &str,
    tenant: &str,
    v2: bool,
) -> Result<ServerContext, gatehouse_core::oauth2::OAuthError> {
    entra::server_context(&state.provider, origin, tenant, version(v2)).await
}

async fn authorize<const V2: bool>(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(tenant): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormOrQuery(raw): FormOrQuery,
) -> Result<Response, WebError> {
    let ctx = context(&state, &origin, &tenant, V2)
        .await
        .map_err(WebError::Page)?;
    let mut params: AuthorizeParams = parse_form(&raw).map_err(WebError::Page)?;
    params.scope = Some(entra::org_scopes(params.scope.as_deref()));
    // Entra's account picker has no counterpart: the sign-in page is the picker.
    if params.prompt.as_deref() == Some("select_account") {
        params.prompt = None;
    }
    authorize_with(&state, &origin, &ctx, ip, &headers, params).await
}

/// A v1 token request's `resource` becomes the access token's audience when it names the client
/// itself (its client id or `api://{client id}`); Gatehouse hosts no other Entra resource
/// (Microsoft Graph…), so any other keeps the org's audience.
fn own_resource(params: &TokenParams, authorization: Option<&str>) -> Option<String> {
    let resource = params.grant.get("resource")?;
    let credentials: ClientCredentials = params.credentials(authorization);
    let client_id = credentials
        .basic
        .map(|(id, _)| id)
        .or(credentials.form_client_id)?;
    let own = resource == client_id || resource.strip_prefix("api://") == Some(&client_id);
    own.then(|| resource.to_owned())
}

async fn token<const V2: bool>(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(tenant): Path<String>,
    Client(client): Client,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, WebError> {
    let mut ctx = context(&state, &origin, &tenant, V2)
        .await
        .map_err(WebError::OAuthJson)?;
    let resource = if V2 || body.is_empty() {
        None
    } else {
        let params: TokenParams = parse_form(&body).map_err(WebError::OAuthJson)?;
        own_resource(&params, authorization_header(&headers))
    };
    if let Some(e) = ctx.entra.as_mut() {
        e.resource.clone_from(&resource);
    }
    let response = token_with(&state, &ctx, &client, &headers, query.as_deref(), &body).await?;
    // Entra's extra fields: `expires_on` (a string, as Entra sends it) and, on v1, `resource`.
    let mut value = serde_json::to_value(&response)
        .map_err(|e| WebError::OAuthJson(gatehouse_core::oauth2::OAuthError::internal(e)))?;
    if let Some(obj) = value.as_object_mut() {
        let now = state.provider.now();
        obj.insert(
            "expires_on".into(),
            json!((now + response.expires_in).to_string()),
        );
        obj.insert("ext_expires_in".into(), json!(response.expires_in));
        if !V2 {
            obj.insert("not_before".into(), json!(now.to_string()));
            if let Some(r) = resource {
                obj.insert("resource".into(), Value::String(r));
            }
        }
    }
    Ok(no_store_json(value))
}

async fn logout<const V2: bool>(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    FormOrQuery(raw): FormOrQuery,
) -> Result<Response, WebError> {
    let ctx = context(&state, &origin, &tenant, V2)
        .await
        .map_err(WebError::Page)?;
    let params: LogoutParams = parse_form(&raw).map_err(WebError::Page)?;
    logout_with(&state, &origin, &ctx, &headers, params).await
}

async fn openid_configuration<const V2: bool>(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(tenant): Path<String>,
) -> Result<Response, WebError> {
    let doc = entra::discovery_document(&state.provider, &origin, &tenant, version(V2))
        .await
        .map_err(WebError::OAuthJson)?;
    Ok(axum::Json(doc).into_response())
}

/// `?appid=` (which the tenant backends add) changes nothing: one key set per org.
async fn keys<const V2: bool>(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path(tenant): Path<String>,
) -> Result<Response, WebError> {
    let ctx = context(&state, &origin, &tenant, V2)
        .await
        .map_err(WebError::OAuthJson)?;
    jwks_response(&state, &ctx.server.id).await
}
