//! The servers themselves, their lifecycle and their signing keys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::auth_servers::{self};
use serde_json::Value;

use super::super::auth::Caller;
use super::super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, pagination_links};
use super::*;
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/authorizationServers", tag = "AuthorizationServers",
    summary = "List custom authorization servers",
    params(("q" = Option<String>, Query, description = "Name prefix"), super::super::openapi::PageParams),
    responses((status = 200, description = "Servers", body = Vec<AuthorizationServerDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ApiError> {
    let limit = query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let (servers, next) =
        auth_servers::list_custom(&state.provider, query.get("q"), query.get("after"), limit)
            .await?;
    let mut body = Vec::with_capacity(servers.len());
    for s in &servers {
        let keys = auth_servers::keys(&state.provider, &s.id).await?;
        body.push(server_json(&state.provider.domains, &origin, s, &keys));
    }
    let links = pagination_links(
        &origin,
        "/api/v1/authorizationServers",
        &query,
        next.as_deref(),
    );
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(post, path = "/api/v1/authorizationServers", tag = "AuthorizationServers",
    summary = "Create a custom authorization server", request_body = AuthzBody,
    responses((status = 201, description = "The new server", body = AuthorizationServerDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let server = auth_servers::create(&state.provider, server_spec(&body)?).await?;
    let keys = auth_servers::keys(&state.provider, &server.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(server_json(
            &state.provider.domains,
            &origin,
            &server,
            &keys,
        )),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Get a custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "The server", body = AuthorizationServerDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let server = auth_servers::find_custom(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(server_json(
        &state.provider.domains,
        &origin,
        &server,
        &keys,
    )))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Replace a custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 200, description = "The server", body = AuthorizationServerDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn replace(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    auth_servers::find_custom(&state.provider, &id).await?;
    let server = auth_servers::replace(&state.provider, &id, server_spec(&body)?).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(server_json(
        &state.provider.domains,
        &origin,
        &server,
        &keys,
    )))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Delete a deactivated custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 204, description = "Deleted"), super::super::openapi::ApiErrors))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth_servers::delete(&state.provider, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate a custom authorization server",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::super::openapi::ApiErrors))]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/lifecycle/{op}"),
    )?;
    auth_servers::set_status(&state.provider, &id, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/credentials/keys", tag = "AuthorizationServers",
    summary = "List the server's signing keys (retired keys stay published)", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Keys, newest first", body = Vec<KeyDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    auth_servers::find_custom(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(
        keys.iter().map(|k| key_json(&origin, &id, k)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/credentials/lifecycle/keyRotate", tag = "AuthorizationServers",
    summary = "Rotate the signing key", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = KeyRotateBody,
    responses((status = 200, description = "Keys after the rotation", body = Vec<KeyDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    if !body.is_empty() {
        let body = JsonBody::from_bytes(&body)?;
        if let Some(use_) = body.str_opt("use")?
            && use_ != "sig"
        {
            return Err(ApiError::validation("use", "must be sig"));
        }
    }
    auth_servers::find_custom(&state.provider, &id).await?;
    auth_servers::rotate_key(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(
        keys.iter().map(|k| key_json(&origin, &id, k)).collect(),
    ))
}
