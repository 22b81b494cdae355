//! `/api/v1/idps`: Okta's Identity Providers, upstream OpenID Connect providers people sign in
//! with (generic `OIDC`, `GOOGLE`, `MICROSOFT`). The JSON is in `idps_json.rs`, the rules in
//! `gatehouse_core::services::idps::admin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_core::domain::IdpStatus;
use gatehouse_core::services::idps::admin;
use serde_json::Value;

use super::auth::Caller;
use super::idps_json::{idp_json, parse_spec};
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, audit};
use crate::AppState;
use crate::client_ip::Client;

#[utoipa::path(
    get,
    path = "/api/v1/idps",
    tag = "IdentityProviders",
    summary = "List identity providers",
    responses(
        (status = 200, description = "Every identity provider", body = Vec<super::idps_openapi::IdpDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
) -> Result<Json<Value>, ApiError> {
    let idps = state.provider.store.list_idps().await?;
    Ok(Json(Value::Array(
        idps.iter().map(|i| idp_json(&origin, i)).collect(),
    )))
}

#[utoipa::path(
    post,
    path = "/api/v1/idps",
    tag = "IdentityProviders",
    summary = "Create an identity provider",
    request_body = super::idps_openapi::IdpBody,
    responses(
        (status = 200, description = "The new identity provider", body = super::idps_openapi::IdpDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let spec = parse_spec(&body.0)?;
    let actor = audit::actor(&caller, &client);
    let idp = admin::create_idp(&state.provider, &actor, spec).await?;
    Ok(Json(idp_json(&origin, &idp)))
}

#[utoipa::path(
    get,
    path = "/api/v1/idps/{id}",
    tag = "IdentityProviders",
    summary = "Get an identity provider",
    params(("id" = String, Path, description = "An identity provider id")),
    responses(
        (status = 200, description = "The identity provider", body = super::idps_openapi::IdpDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let idp = admin::find_idp(&state.provider, &id).await?;
    Ok(Json(idp_json(&origin, &idp)))
}

#[utoipa::path(
    put,
    path = "/api/v1/idps/{id}",
    tag = "IdentityProviders",
    summary = "Replace an identity provider",
    params(("id" = String, Path, description = "An identity provider id")),
    request_body = super::idps_openapi::IdpBody,
    responses(
        (status = 200, description = "The identity provider", body = super::idps_openapi::IdpDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let spec = parse_spec(&body.0)?;
    let actor = audit::actor(&caller, &client);
    let idp = admin::replace_idp(&state.provider, &actor, &id, spec).await?;
    Ok(Json(idp_json(&origin, &idp)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/idps/{id}",
    tag = "IdentityProviders",
    summary = "Delete an identity provider",
    params(("id" = String, Path, description = "An identity provider id")),
    responses(
        (status = 204, description = "Deleted"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    admin::delete_idp(&state.provider, &audit::actor(&caller, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/idps/{id}/lifecycle/{op}",
    tag = "IdentityProviders",
    summary = "Activate or deactivate an identity provider",
    params(
        ("id" = String, Path, description = "An identity provider id"),
        ("op" = String, Path, description = "activate or deactivate"),
    ),
    responses(
        (status = 200, description = "The identity provider", body = super::idps_openapi::IdpDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let status = match op.as_str() {
        "activate" => IdpStatus::Active,
        "deactivate" => IdpStatus::Inactive,
        _ => {
            return Err(ApiError::NotFound(format!(
                "/api/v1/idps/{id}/lifecycle/{op} (POST)"
            )));
        }
    };
    let actor = audit::actor(&caller, &client);
    let idp = admin::set_status(&state.provider, &actor, &id, status).await?;
    Ok(Json(idp_json(&origin, &idp)))
}
