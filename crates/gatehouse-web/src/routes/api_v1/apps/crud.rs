//! `/api/v1/apps` and `/api/v1/apps/{id}`: create, list, get, replace, delete, lifecycle.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{AppQuery, AppStatus};
use gatehouse_core::services::apps;
use serde_json::{Value, json};

use super::parse::parse_spec;
use super::render::app_json;
use super::{DEFAULT_LIMIT, MAX_LIMIT, find};
use crate::AppState;
use crate::client_ip::Client;
use crate::routes::api_v1::audit;
use crate::routes::api_v1::auth::Caller;
use crate::routes::api_v1::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, pagination_links};

#[utoipa::path(
    post,
    path = "/api/v1/apps",
    tag = "Apps",
    summary = "Create an OIDC app",
    params(
        ("activate" = Option<bool>, Query, description = "Activate the app (default true)"),
    ),
    request_body = super::super::openapi::AppBody,
    responses(
        (status = 200, description = "The new app, with its client secret (shown once)", body = super::super::openapi::AppDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let active = query.bool("activate", true)?;
    let spec = parse_spec(&body, active)?;
    let created = apps::create(&state.provider, &audit::actor(&caller, &client), spec).await?;
    Ok(Json(app_json(
        &origin,
        &created.app,
        created.client_secret.as_deref(),
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/apps",
    tag = "Apps",
    summary = "List apps",
    params(
        super::super::openapi::PageParams,
        ("q" = Option<String>, Query, description = "Starts-with match on label or name"),
        ("filter" = Option<String>, Query, description = "e.g. `status eq \"ACTIVE\"`"),
    ),
    responses(
        (status = 200, description = "A page of apps", body = Vec<super::super::openapi::AppDoc>),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ApiError> {
    let limit = query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut app_query = match query.get("filter") {
        Some(f) => apps::parse_app_filter(f)?,
        None => AppQuery::default(),
    };
    app_query.prefix = query.get("q").map(str::to_owned);
    let (found, next) = apps::list(&state.provider, &app_query, query.get("after"), limit).await?;
    let body: Vec<_> = found.iter().map(|a| app_json(&origin, a, None)).collect();
    let links = pagination_links(&origin, "/api/v1/apps", &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}",
    tag = "Apps",
    summary = "Get an app",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    responses(
        (status = 200, description = "The app", body = super::super::openapi::AppDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let app = find(&state, &id).await?;
    Ok(Json(app_json(&origin, &app, None)))
}

#[utoipa::path(
    put,
    path = "/api/v1/apps/{id}",
    tag = "Apps",
    summary = "Replace an app",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    request_body = super::super::openapi::AppBody,
    responses(
        (status = 200, description = "The app", body = super::super::openapi::AppDoc),
        super::super::openapi::ApiErrors,
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
    let app = find(&state, &id).await?;
    let mut spec = parse_spec(&body, app.status == AppStatus::Active)?;
    apps::keep_registration_only_settings(&mut spec, &app);
    let actor = audit::actor(&caller, &client);
    let replaced = apps::replace(&state.provider, &actor, app, spec).await?;
    Ok(Json(app_json(
        &origin,
        &replaced.app,
        replaced.client_secret.as_deref(),
    )))
}

#[utoipa::path(
    delete,
    path = "/api/v1/apps/{id}",
    tag = "Apps",
    summary = "Delete an INACTIVE app",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let app = find(&state, &id).await?;
    apps::delete(&state.provider, &audit::actor(&caller, &client), &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/apps/{id}/lifecycle/{op}",
    tag = "Apps",
    summary = "Activate or deactivate an app",
    params(
        ("id" = String, Path, description = "An app id"),
        ("op" = String, Path, description = "activate or deactivate"),
    ),
    responses(
        (status = 200, description = "Done", body = Object),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let status = match op.as_str() {
        "activate" => AppStatus::Active,
        "deactivate" => AppStatus::Inactive,
        _ => {
            return Err(ApiError::NotFound(format!(
                "/api/v1/apps/{id}/lifecycle/{op} (POST)"
            )));
        }
    };
    let app = find(&state, &id).await?;
    apps::set_status(
        &state.provider,
        &audit::actor(&caller, &client),
        app,
        status,
    )
    .await?;
    Ok(Json(json!({})))
}
