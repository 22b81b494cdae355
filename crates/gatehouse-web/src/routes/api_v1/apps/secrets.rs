//! `/api/v1/apps/{id}/credentials/secrets`: the app's client secrets.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::AppStatus;
use gatehouse_core::services::apps;
use serde_json::Value;

use super::render::secret_json;
use super::{find, opt_str, optional_body};
use crate::AppState;
use crate::client_ip::Client;
use crate::routes::api_v1::audit;
use crate::routes::api_v1::auth::Caller;
use crate::routes::api_v1::{ApiError, ApiOrigin, ApiPath};

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/credentials/secrets",
    tag = "Apps",
    summary = "The app's client secrets (their hashes only)",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    responses(
        (status = 200, description = "Secrets", body = Vec<super::super::openapi::ClientSecretDoc>),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list_secrets(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let app = find(&state, &id).await?;
    let secrets: Vec<_> = apps::list_client_secrets(&state.provider, &app)
        .await?
        .iter()
        .map(|s| secret_json(&origin, &app, s))
        .collect();
    Ok(Json(Value::Array(secrets)))
}

/// A new client secret beside the app's others (at most two), generated or given.
#[utoipa::path(
    post,
    path = "/api/v1/apps/{id}/credentials/secrets",
    tag = "Apps",
    summary = "Create a client secret (its value shown once)",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    responses(
        (status = 201, description = "The new secret", body = super::super::openapi::ClientSecretDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn new_secret(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = optional_body(&bytes)?;
    let chosen = opt_str(&body, "client_secret")?;
    let status = match body.str_opt("status")?.as_deref() {
        None | Some("ACTIVE") => AppStatus::Active,
        Some("INACTIVE") => AppStatus::Inactive,
        Some(_) => return Err(ApiError::validation("status", "must be ACTIVE or INACTIVE")),
    };
    let app = find(&state, &id).await?;
    let created = apps::add_client_secret(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        chosen.as_deref(),
        status,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(secret_json(&origin, &app, &created)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/credentials/secrets/{secretId}",
    tag = "Apps",
    summary = "One client secret (its hash only)",
    params(
        ("id" = String, Path, description = "An app id"),
        ("secretId" = String, Path, description = "A client secret id"),
    ),
    responses(
        (status = 200, description = "The secret", body = super::super::openapi::ClientSecretDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get_secret(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, secret_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = find(&state, &id).await?;
    let secret = apps::find_client_secret(&state.provider, &app, &secret_id).await?;
    Ok(Json(secret_json(&origin, &app, &secret)))
}

#[utoipa::path(
    post,
    path = "/api/v1/apps/{id}/credentials/secrets/{secretId}/lifecycle/{op}",
    tag = "Apps",
    summary = "Activate or deactivate a client secret (the last active one stays)",
    params(
        ("id" = String, Path, description = "An app id"),
        ("secretId" = String, Path, description = "A client secret id"),
        ("op" = String, Path, description = "activate or deactivate"),
    ),
    responses(
        (status = 200, description = "The secret", body = super::super::openapi::ClientSecretDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn secret_lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, secret_id, op)): ApiPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let status = match op.as_str() {
        "activate" => AppStatus::Active,
        "deactivate" => AppStatus::Inactive,
        _ => {
            return Err(ApiError::NotFound(format!(
                "/api/v1/apps/{id}/credentials/secrets/{secret_id}/lifecycle/{op} (POST)"
            )));
        }
    };
    let app = find(&state, &id).await?;
    let secret = apps::set_client_secret_status(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &secret_id,
        status,
    )
    .await?;
    Ok(Json(secret_json(&origin, &app, &secret)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/apps/{id}/credentials/secrets/{secretId}",
    tag = "Apps",
    summary = "Delete an inactive client secret",
    params(
        ("id" = String, Path, description = "An app id"),
        ("secretId" = String, Path, description = "A client secret id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete_secret(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, secret_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find(&state, &id).await?;
    apps::delete_client_secret(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &secret_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
