//! `/api/v1/policies`: Okta's sign-on policies (and, in `policies_password.rs`, `PASSWORD`
//! policies) (`OKTA_SIGN_ON`, the global session policy) and
//! app authentication policies (`ACCESS_POLICY`), their rules, and
//! `PUT /api/v1/apps/{appId}/policies/{policyId}` (an app's access policy). The rules live in
//! `gatehouse_core::services::sign_on_policy`; the JSON in `policies_json.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Router, response::IntoResponse, response::Response};
use gatehouse_core::domain::{AppStatus, PolicyType};
use gatehouse_core::services::sign_on_policy::manage;
use serde_json::Value;

use super::auth::Caller;
use super::policies_json::{parse_policy, parse_rule, policy_json, rule_json};
use super::policies_password::{self as pw_json, parse_password_policy, password_policy_json};
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query};
use crate::AppState;
use gatehouse_core::services::passwords::manage as pw;

/// The routes, merged into `/api/v1` by `router()`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies", get(list).post(create))
        .route("/policies/{id}", get(find).put(replace).delete(delete))
        .route("/policies/{id}/lifecycle/{op}", post(lifecycle))
        .route("/policies/{id}/rules", get(list_rules).post(create_rule))
        .route(
            "/policies/{id}/rules/{rule_id}",
            get(find_rule).put(replace_rule).delete(delete_rule),
        )
        .route(
            "/policies/{id}/rules/{rule_id}/lifecycle/{op}",
            post(rule_lifecycle),
        )
        .route("/policies/{id}/app", get(policy_apps))
        .route("/apps/{app_id}/policies/{id}", put(assign_app))
}

fn status_of(op: &str, path: String) -> Result<AppStatus, ApiError> {
    match op {
        "activate" => Ok(AppStatus::Active),
        "deactivate" => Ok(AppStatus::Inactive),
        _ => Err(ApiError::NotFound(format!("{path} (POST)"))),
    }
}

/// `?activate=false` creates an INACTIVE policy or rule (Okta's default is `true`).
fn activate(query: &Query, body_status: Option<AppStatus>) -> Option<AppStatus> {
    match query
        .get("activate")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("false") => Some(AppStatus::Inactive),
        Some("true") => Some(AppStatus::Active),
        _ => body_status,
    }
}

/// `GET /api/v1/policies?type=OKTA_SIGN_ON|ACCESS_POLICY[&status=ACTIVE|INACTIVE]`.
#[utoipa::path(get, path = "/api/v1/policies", tag = "Policies", summary = "List policies of a type",
    params(("type" = String, Query, description = "`OKTA_SIGN_ON`, `ACCESS_POLICY` or `PASSWORD`"), ("status" = Option<String>, Query, description = "`ACTIVE` or `INACTIVE`")),
    responses((status = 200, description = "Policies in evaluation order", body = Vec<super::policies_openapi::PolicyDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let raw = query
        .get("type")
        .ok_or_else(|| ApiError::validation("type", "this parameter is required"))?;
    let status = match query.get("status") {
        None => None,
        Some(s) => Some(
            AppStatus::parse(s)
                .ok_or_else(|| ApiError::validation("status", "must be ACTIVE or INACTIVE"))?,
        ),
    };
    if raw == pw_json::TYPE {
        let body = pw::list(&state.provider)
            .await?
            .iter()
            .filter(|p| status.is_none_or(|s| p.status == s))
            .map(|p| password_policy_json(&origin, p))
            .collect();
        return Ok(Json(Value::Array(body)));
    }
    let policy_type = PolicyType::parse(raw).ok_or_else(|| {
        ApiError::validation(
            "type",
            format!("'{raw}' is not one of OKTA_SIGN_ON, ACCESS_POLICY, PASSWORD"),
        )
    })?;
    let policies = manage::list_policies(&state.provider, Some(policy_type)).await?;
    let body = policies
        .iter()
        .filter(|p| status.is_none_or(|s| p.status == s))
        .map(|p| policy_json(&origin, p))
        .collect();
    Ok(Json(Value::Array(body)))
}

#[utoipa::path(post, path = "/api/v1/policies", tag = "Policies", summary = "Create a policy",
    params(("activate" = Option<bool>, Query, description = "`false`: create it INACTIVE")),
    request_body = super::policies_openapi::PolicyBody,
    responses((status = 200, description = "The policy", body = super::policies_openapi::PolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    if body.str_opt("type")?.as_deref() == Some(pw_json::TYPE) {
        let mut spec = parse_password_policy(&body, None)?;
        spec.status = activate(&query, spec.status);
        let policy = pw::create(&state.provider, spec).await?;
        return Ok(Json(password_policy_json(&origin, &policy)));
    }
    let mut spec = parse_policy(&body, None)?;
    spec.status = activate(&query, spec.status);
    let policy = manage::create_policy(&state.provider, spec).await?;
    Ok(Json(policy_json(&origin, &policy)))
}

#[utoipa::path(get, path = "/api/v1/policies/{policyId}", tag = "Policies", summary = "Get a policy",
    params(("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "The policy", body = super::policies_openapi::PolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn find(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    if let Some(p) = pw::find(&state.provider, &id).await? {
        return Ok(Json(password_policy_json(&origin, &p)));
    }
    let policy = manage::find_policy(&state.provider, &id).await?;
    Ok(Json(policy_json(&origin, &policy)))
}

#[utoipa::path(put, path = "/api/v1/policies/{policyId}", tag = "Policies", summary = "Replace a policy",
    params(("policyId" = String, Path, description = "A policy id")), request_body = super::policies_openapi::PolicyBody,
    responses((status = 200, description = "The policy", body = super::policies_openapi::PolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    if let Some(p) = pw::find(&state.provider, &id).await? {
        let spec = parse_password_policy(&body, Some(&p))?;
        let p = pw::replace(&state.provider, p, spec).await?;
        return Ok(Json(password_policy_json(&origin, &p)));
    }
    let policy = manage::find_policy(&state.provider, &id).await?;
    let spec = parse_policy(&body, Some(policy.policy_type))?;
    let policy = manage::replace_policy(&state.provider, policy, spec).await?;
    Ok(Json(policy_json(&origin, &policy)))
}

#[utoipa::path(delete, path = "/api/v1/policies/{policyId}", tag = "Policies", summary = "Delete a policy (not the default one)",
    params(("policyId" = String, Path, description = "A policy id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if let Some(p) = pw::find(&state.provider, &id).await? {
        pw::delete(&state.provider, &p).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let policy = manage::find_policy(&state.provider, &id).await?;
    manage::delete_policy(&state.provider, &policy).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta answers the lifecycle operations with 204 and no body.
#[utoipa::path(post, path = "/api/v1/policies/{policyId}/lifecycle/{op}", tag = "Policies", summary = "Activate or deactivate a policy",
    params(("policyId" = String, Path, description = "A policy id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::openapi::ApiErrors))]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let status = status_of(&op, format!("/api/v1/policies/{id}/lifecycle/{op}"))?;
    if let Some(p) = pw::find(&state.provider, &id).await? {
        pw::set_status(&state.provider, p, status).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let policy = manage::find_policy(&state.provider, &id).await?;
    manage::set_policy_status(&state.provider, policy, status).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/policies/{policyId}/rules", tag = "Policies", summary = "List a policy's rules",
    params(("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "Rules in evaluation order", body = Vec<super::policies_openapi::PolicyRuleDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    // A password policy's rules (self-service reset and unlock) are not kept: none to list.
    if pw::find(&state.provider, &id).await?.is_some() {
        return Ok(Json(Value::Array(Vec::new())));
    }
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rules = manage::list_rules(&state.provider, &policy).await?;
    let body = rules
        .iter()
        .map(|r| rule_json(&origin, &policy, r))
        .collect();
    Ok(Json(Value::Array(body)))
}

#[utoipa::path(post, path = "/api/v1/policies/{policyId}/rules", tag = "Policies", summary = "Create a rule",
    params(("policyId" = String, Path, description = "A policy id"), ("activate" = Option<bool>, Query, description = "`false`: create it INACTIVE")),
    request_body = super::policies_openapi::PolicyRuleBody,
    responses((status = 200, description = "The rule", body = super::policies_openapi::PolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let mut spec = parse_rule(&body, policy.policy_type)?;
    spec.status = activate(&query, spec.status);
    let rule = manage::create_rule(&state.provider, &policy, spec).await?;
    Ok(Json(rule_json(&origin, &policy, &rule)))
}

#[utoipa::path(get, path = "/api/v1/policies/{policyId}/rules/{ruleId}", tag = "Policies", summary = "Get a rule",
    params(("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 200, description = "The rule", body = super::policies_openapi::PolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn find_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, rule_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rule_id).await?;
    Ok(Json(rule_json(&origin, &policy, &rule)))
}

#[utoipa::path(put, path = "/api/v1/policies/{policyId}/rules/{ruleId}", tag = "Policies", summary = "Replace a rule",
    params(("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")), request_body = super::policies_openapi::PolicyRuleBody,
    responses((status = 200, description = "The rule", body = super::policies_openapi::PolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, rule_id)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rule_id).await?;
    let spec = parse_rule(&body, policy.policy_type)?;
    let rule = manage::replace_rule(&state.provider, &policy, rule, spec).await?;
    Ok(Json(rule_json(&origin, &policy, &rule)))
}

#[utoipa::path(delete, path = "/api/v1/policies/{policyId}/rules/{ruleId}", tag = "Policies", summary = "Delete a rule (not a default one)",
    params(("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, rule_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rule_id).await?;
    manage::delete_rule(&state.provider, &rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/policies/{policyId}/rules/{ruleId}/lifecycle/{op}", tag = "Policies", summary = "Activate or deactivate a rule",
    params(("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::openapi::ApiErrors))]
pub(crate) async fn rule_lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, rule_id, op)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let status = status_of(
        &op,
        format!("/api/v1/policies/{id}/rules/{rule_id}/lifecycle/{op}"),
    )?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rule_id).await?;
    manage::set_rule_status(&state.provider, rule, status).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The apps using an access policy: `[{"id": appId}]` (each app's full object is at
/// `/api/v1/apps/{id}`).
#[utoipa::path(get, path = "/api/v1/policies/{policyId}/app", tag = "Policies", summary = "The apps using an access policy",
    params(("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "The apps", body = Vec<super::policies_openapi::PolicyAppDoc>), super::openapi::ApiErrors))]
pub(crate) async fn policy_apps(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let apps = manage::policy_apps(&state.provider, &policy).await?;
    let body = apps
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a,
                "_links": { "self": { "href": format!("{origin}/api/v1/apps/{a}") } },
            })
        })
        .collect();
    Ok(Json(Value::Array(body)))
}

/// `PUT /api/v1/apps/{appId}/policies/{policyId}`: the app's access policy; 204.
#[utoipa::path(put, path = "/api/v1/apps/{appId}/policies/{policyId}", tag = "Policies", summary = "Make an ACCESS_POLICY the app's authentication policy",
    params(("appId" = String, Path, description = "An app id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 204, description = "Assigned"), super::openapi::ApiErrors))]
pub(crate) async fn assign_app(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((app_id, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    manage::assign_app(&state.provider, &app_id, &policy).await?;
    Ok(StatusCode::NO_CONTENT)
}
