//! `/api/v1/apps/{appId}/grants`: Okta API scopes granted to an app (Okta's
//! `OAuth2ScopeConsentGrant`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::AppGrant;
use gatehouse_core::services::{app_grants, directory};
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, okta_date};
use crate::AppState;

fn grant_json(origin: &str, app_client_id: &str, g: &AppGrant) -> Value {
    let app_href = format!("{origin}/api/v1/apps/{}", g.app_id);
    let mut out = json!({
        "id": g.id,
        "status": "ACTIVE",
        "created": okta_date(g.created),
        "lastUpdated": okta_date(g.last_updated),
        "issuer": g.issuer,
        "clientId": app_client_id,
        "scopeId": g.scope_id,
        "source": g.source,
        "_embedded": { "scope": { "id": g.scope_id } },
        "_links": {
            "app": { "href": app_href },
            "self": { "href": format!("{app_href}/grants/{}", g.id) },
        },
    });
    if let (Some(by), Some(map)) = (&g.created_by, out.as_object_mut()) {
        map.insert("createdBy".into(), json!({ "id": by, "type": "User" }));
    }
    out
}

#[utoipa::path(
    post,
    path = "/api/v1/apps/{id}/grants",
    tag = "Apps",
    summary = "Grant the app an Okta API scope",
    params(
        ("id" = String, Path, description = "An app id or client id"),
    ),
    request_body = super::openapi::AppGrantBody,
    responses(
        (status = 201, description = "The grant", body = super::openapi::AppGrantDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(app_id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let app = directory::find_app_by_id_or_client_id(&state.provider, &app_id).await?;
    let scope_id = body
        .str_opt("scopeId")?
        .ok_or_else(|| ApiError::validation("scopeId", "this field is required"))?;
    let issuer = body
        .str_opt("issuer")?
        .ok_or_else(|| ApiError::validation("issuer", "this field is required"))?;
    let org = state
        .provider
        .server_context(&origin, None)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let grant = app_grants::grant(
        &state.provider,
        &app,
        &scope_id,
        &issuer,
        &org.issuer,
        caller.0.user(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(grant_json(&origin, &app.client_id, &grant)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/grants",
    tag = "Apps",
    summary = "The app's Okta API scope grants",
    params(
        ("id" = String, Path, description = "An app id or client id"),
    ),
    responses(
        (status = 200, description = "Grants", body = Vec<super::openapi::AppGrantDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(app_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let app = directory::find_app_by_id_or_client_id(&state.provider, &app_id).await?;
    let grants = app_grants::list(&state.provider, &app).await?;
    Ok(Json(Value::Array(
        grants
            .iter()
            .map(|g| grant_json(&origin, &app.client_id, g))
            .collect(),
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/grants/{grant_id}",
    tag = "Apps",
    summary = "Get a grant",
    params(
        ("id" = String, Path, description = "An app id or client id"),
        ("grant_id" = String, Path, description = "A grant id"),
    ),
    responses(
        (status = 200, description = "The grant", body = super::openapi::AppGrantDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((app_id, grant_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = directory::find_app_by_id_or_client_id(&state.provider, &app_id).await?;
    let grant = app_grants::get(&state.provider, &app, &grant_id).await?;
    Ok(Json(grant_json(&origin, &app.client_id, &grant)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/apps/{id}/grants/{grant_id}",
    tag = "Apps",
    summary = "Revoke a grant",
    params(
        ("id" = String, Path, description = "An app id or client id"),
        ("grant_id" = String, Path, description = "A grant id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((app_id, grant_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = directory::find_app_by_id_or_client_id(&state.provider, &app_id).await?;
    app_grants::revoke(&state.provider, &app, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
