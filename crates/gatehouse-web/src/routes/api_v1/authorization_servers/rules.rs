//! A policy's rules.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::AccessPolicy;
use gatehouse_core::services::auth_server_config::{self as config};
use serde_json::Value;

use super::super::auth::Caller;
use super::super::{ApiError, ApiOrigin, ApiPath, JsonBody};
use super::*;
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules", tag = "AuthorizationServers",
    summary = "List a policy's rules, by priority", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "Rules", body = Vec<AuthorizationServerPolicyRuleDoc>), super::super::openapi::ApiErrors))]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rules = config::list_rules(&state.provider, &id, &policy).await?;
    Ok(Json(
        rules.iter().map(|r| rule_json(&origin, &id, r)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules", tag = "AuthorizationServers",
    summary = "Create a policy rule", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")), request_body = AuthzBody,
    responses((status = 201, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    config::find::<AccessPolicy>(&state.provider, &id, &policy).await?;
    let spec = rule_spec(&body)?;
    let rule = config::create_rule(&state.provider, &id, &policy, spec).await?;
    Ok((StatusCode::CREATED, Json(rule_json(&origin, &id, &rule))).into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Get a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 200, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn get_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rule = config::find_rule(&state.provider, &id, &policy, &item).await?;
    Ok(Json(rule_json(&origin, &id, &rule)))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Replace a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    request_body = AuthzBody,
    responses((status = 200, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::super::openapi::ApiErrors))]
pub(crate) async fn replace_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    config::find_rule(&state.provider, &id, &policy, &item).await?;
    let rule =
        config::replace_rule(&state.provider, &id, &policy, &item, rule_spec(&body)?).await?;
    Ok(Json(rule_json(&origin, &id, &rule)))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Delete a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 204, description = "Deleted"), super::super::openapi::ApiErrors))]
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete_rule(&state.provider, &id, &policy, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id"),
        ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::super::openapi::ApiErrors))]
pub(crate) async fn rule_lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, policy, item, op)): ApiPath<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/policies/{policy}/rules/{item}/lifecycle/{op}"),
    )?;
    config::set_rule_status(&state.provider, &id, &policy, &item, status).await?;
    Ok(StatusCode::NO_CONTENT)
}
