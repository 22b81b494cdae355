//! Scopes, claims and access policies: one generic set of handlers over the services'
//! `ConfigItem`s; the routes below only name the kind and document it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{AccessPolicy, ConfigItem, OAuthClaim, OAuthScope};
use gatehouse_core::provider::Provider;
use gatehouse_core::services::auth_server_config::{self as config};
use serde_json::Value;

use super::super::auth::Caller;
use super::super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query};
use super::*;
use crate::AppState;

/// What the API does with one kind of a server's configuration items; the handlers below are
/// written once over it.
pub(super) trait ApiItem: ConfigItem {
    fn to_json(&self, origin: &str, server_id: &str) -> Value;
    /// Creates the item from Okta's JSON.
    async fn create(
        provider: &Provider,
        server_id: &str,
        body: &JsonBody,
    ) -> Result<Self, ApiError>;
    /// Replaces the existing item `id` with Okta's JSON.
    async fn replace(
        provider: &Provider,
        server_id: &str,
        id: &str,
        body: &JsonBody,
    ) -> Result<Self, ApiError>;
}

impl ApiItem for OAuthScope {
    fn to_json(&self, origin: &str, server_id: &str) -> Value {
        scope_json(origin, server_id, self)
    }
    async fn create(p: &Provider, server_id: &str, body: &JsonBody) -> Result<Self, ApiError> {
        Ok(config::create_scope(p, server_id, scope_spec(body)?).await?)
    }
    async fn replace(
        p: &Provider,
        server_id: &str,
        id: &str,
        body: &JsonBody,
    ) -> Result<Self, ApiError> {
        Ok(config::replace_scope(p, server_id, id, scope_spec(body)?).await?)
    }
}

impl ApiItem for OAuthClaim {
    fn to_json(&self, origin: &str, server_id: &str) -> Value {
        claim_json(origin, server_id, self)
    }
    async fn create(p: &Provider, server_id: &str, body: &JsonBody) -> Result<Self, ApiError> {
        Ok(config::create_claim(p, server_id, claim_spec(body)?).await?)
    }
    async fn replace(
        p: &Provider,
        server_id: &str,
        id: &str,
        body: &JsonBody,
    ) -> Result<Self, ApiError> {
        Ok(config::replace_claim(p, server_id, id, claim_spec(body)?).await?)
    }
}

impl ApiItem for AccessPolicy {
    fn to_json(&self, origin: &str, server_id: &str) -> Value {
        policy_json(origin, server_id, self)
    }
    async fn create(p: &Provider, server_id: &str, body: &JsonBody) -> Result<Self, ApiError> {
        Ok(config::create_policy(p, server_id, policy_spec(body)?).await?)
    }
    async fn replace(
        p: &Provider,
        server_id: &str,
        id: &str,
        body: &JsonBody,
    ) -> Result<Self, ApiError> {
        Ok(config::replace_policy(p, server_id, id, policy_spec(body)?).await?)
    }
}

async fn list_items<T: ApiItem>(
    state: &AppState,
    origin: &str,
    server_id: &str,
    keep: impl Fn(&T) -> bool,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<T> = config::list(&state.provider, server_id).await?;
    Ok(Json(
        items
            .iter()
            .filter(|item| keep(item))
            .map(|item| item.to_json(origin, server_id))
            .collect(),
    ))
}

async fn create_item<T: ApiItem>(
    state: &AppState,
    origin: &str,
    server_id: &str,
    body: &JsonBody,
) -> Result<Response, ApiError> {
    let item = T::create(&state.provider, server_id, body).await?;
    Ok((StatusCode::CREATED, Json(item.to_json(origin, server_id))).into_response())
}

async fn get_item<T: ApiItem>(
    state: &AppState,
    origin: &str,
    server_id: &str,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    let item: T = config::find(&state.provider, server_id, id).await?;
    Ok(Json(item.to_json(origin, server_id)))
}

async fn replace_item<T: ApiItem>(
    state: &AppState,
    origin: &str,
    server_id: &str,
    id: &str,
    body: &JsonBody,
) -> Result<Json<Value>, ApiError> {
    // An unknown item is 404 before its body is judged.
    config::find::<T>(&state.provider, server_id, id).await?;
    let item = T::replace(&state.provider, server_id, id, body).await?;
    Ok(Json(item.to_json(origin, server_id)))
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/scopes", tag = "AuthorizationServers",
    summary = "List scopes", params(("authServerId" = String, Path, description = "An authorization server id"), ("q" = Option<String>, Query, description = "Name prefix")),
    responses((status = 200, description = "Scopes", body = Vec<OAuth2ScopeDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list_scopes(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let q = query.get("q").map(str::to_lowercase);
    list_items(&state, &origin, &id, |s: &OAuthScope| {
        q.as_ref()
            .is_none_or(|q| s.name.to_lowercase().starts_with(q))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/scopes", tag = "AuthorizationServers",
    summary = "Create a scope", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The scope", body = OAuth2ScopeDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn create_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    create_item::<OAuthScope>(&state, &origin, &id, &body).await
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Get a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")),
    responses((status = 200, description = "The scope", body = OAuth2ScopeDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn get_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    get_item::<OAuthScope>(&state, &origin, &id, &item).await
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Replace a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")), request_body = AuthzBody,
    responses((status = 200, description = "The scope", body = OAuth2ScopeDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn replace_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    replace_item::<OAuthScope>(&state, &origin, &id, &item, &body).await
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Delete a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")),
    responses((status = 204, description = "Deleted"), super::super::openapi::ApiErrors))]
pub(crate) async fn delete_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<OAuthScope>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/claims", tag = "AuthorizationServers",
    summary = "List claims", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Claims", body = Vec<OAuth2ClaimDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list_claims(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    list_items(&state, &origin, &id, |_: &OAuthClaim| true).await
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/claims", tag = "AuthorizationServers",
    summary = "Create a claim", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The claim", body = OAuth2ClaimDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn create_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    create_item::<OAuthClaim>(&state, &origin, &id, &body).await
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Get a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")),
    responses((status = 200, description = "The claim", body = OAuth2ClaimDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn get_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    get_item::<OAuthClaim>(&state, &origin, &id, &item).await
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Replace a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")), request_body = AuthzBody,
    responses((status = 200, description = "The claim", body = OAuth2ClaimDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn replace_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    replace_item::<OAuthClaim>(&state, &origin, &id, &item, &body).await
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Delete a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")),
    responses((status = 204, description = "Deleted"), super::super::openapi::ApiErrors))]
pub(crate) async fn delete_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<OAuthClaim>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies", tag = "AuthorizationServers",
    summary = "List access policies, by priority", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Policies", body = Vec<AuthorizationServerPolicyDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list_policies(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    list_items(&state, &origin, &id, |_: &AccessPolicy| true).await
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies", tag = "AuthorizationServers",
    summary = "Create an access policy", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The policy", body = AuthorizationServerPolicyDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn create_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    create_item::<AccessPolicy>(&state, &origin, &id, &body).await
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Get an access policy", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "The policy", body = AuthorizationServerPolicyDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    get_item::<AccessPolicy>(&state, &origin, &id, &item).await
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Replace an access policy", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")), request_body = AuthzBody,
    responses((status = 200, description = "The policy", body = AuthorizationServerPolicyDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn replace_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    replace_item::<AccessPolicy>(&state, &origin, &id, &item, &body).await
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Delete an access policy and its rules", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 204, description = "Deleted"), super::super::openapi::ApiErrors))]
pub(crate) async fn delete_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<AccessPolicy>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate an access policy",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::super::openapi::ApiErrors))]
pub(crate) async fn policy_lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item, op)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/policies/{item}/lifecycle/{op}"),
    )?;
    config::set_policy_status(&state.provider, &id, &item, status).await?;
    Ok(StatusCode::NO_CONTENT)
}
