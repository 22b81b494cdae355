//! `/api/v1/apps/{id}/groups` and `/api/v1/apps/{id}/users`: the app's assignments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::apps::{self, AssignmentScope};
use gatehouse_core::services::directory;
use serde_json::Value;

use super::render::{app_user_json, group_assignment_json};
use super::{
    GROUPS_DEFAULT_LIMIT, GROUPS_MAX_LIMIT, USERS_DEFAULT_LIMIT, USERS_MAX_LIMIT, find, find_user,
    optional_body, required,
};
use crate::AppState;
use crate::client_ip::Client;
use crate::routes::api_v1::audit;
use crate::routes::api_v1::auth::Caller;
use crate::routes::api_v1::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, pagination_links};

// ---- group assignments

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/groups",
    tag = "Apps",
    summary = "The app's group assignments",
    params(
        ("id" = String, Path, description = "An app id"),
        super::super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "Group assignments", body = Vec<super::super::openapi::AppGroupDoc>),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list_groups(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let app = find(&state, &id).await?;
    let limit = query.limit(GROUPS_DEFAULT_LIMIT, GROUPS_MAX_LIMIT)?;
    let (assignments, next) =
        apps::list_group_assignments(&state.provider, &app, query.get("after"), limit).await?;
    let body: Vec<_> = assignments
        .iter()
        .map(|a| group_assignment_json(&origin, &app, a))
        .collect();
    let path = format!("/api/v1/apps/{}/groups", app.id);
    let links = pagination_links(&origin, &path, &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/apps/{id}/groups/{gid}",
    tag = "Apps",
    summary = "Assign a group",
    params(
        ("id" = String, Path, description = "An app id"),
        ("gid" = String, Path, description = "A group id"),
    ),
    request_body = Option<super::super::openapi::AppGroupBody>,
    responses(
        (status = 200, description = "The assignment", body = super::super::openapi::AppGroupDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn assign_group(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, group_id)): ApiPath<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = optional_body(&bytes)?;
    let priority = body.i64_opt("priority")?;
    body.object("profile")?;
    let app = find(&state, &id).await?;
    let group = directory::find_group_by_id_or_name(&state.provider, &group_id).await?;
    let assignment = apps::assign_group(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &group,
        priority,
    )
    .await?;
    Ok(Json(group_assignment_json(&origin, &app, &assignment)))
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/groups/{gid}",
    tag = "Apps",
    summary = "Get a group assignment",
    params(
        ("id" = String, Path, description = "An app id"),
        ("gid" = String, Path, description = "A group id"),
    ),
    responses(
        (status = 200, description = "The assignment", body = super::super::openapi::AppGroupDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get_group(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, group_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = find(&state, &id).await?;
    let assignment = apps::group_assignment(&state.provider, &app, &group_id).await?;
    Ok(Json(group_assignment_json(&origin, &app, &assignment)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/apps/{id}/groups/{gid}",
    tag = "Apps",
    summary = "Remove a group assignment",
    params(
        ("id" = String, Path, description = "An app id"),
        ("gid" = String, Path, description = "A group id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn unassign_group(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, group_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find(&state, &id).await?;
    apps::unassign_group(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &group_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- user assignments

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/users",
    tag = "Apps",
    summary = "Users assigned to the app (directly or through groups)",
    params(
        ("id" = String, Path, description = "An app id"),
        super::super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "App users", body = Vec<super::super::openapi::AppUserDoc>),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let app = find(&state, &id).await?;
    let limit = query.limit(USERS_DEFAULT_LIMIT, USERS_MAX_LIMIT)?;
    let (users, next) = apps::list_users(&state.provider, &app, query.get("after"), limit).await?;
    let body: Vec<_> = users
        .iter()
        .map(|(u, scope)| app_user_json(&origin, &app, u, *scope))
        .collect();
    let path = format!("/api/v1/apps/{}/users", app.id);
    let links = pagination_links(&origin, &path, &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/apps/{id}/users",
    tag = "Apps",
    summary = "Assign a user",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    request_body = super::super::openapi::AppUserBody,
    responses(
        (status = 200, description = "The assignment", body = super::super::openapi::AppUserDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn assign_user(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let user_id = body.str_opt("id")?.ok_or_else(|| required("id"))?;
    match body.str_opt("scope")?.as_deref() {
        None | Some("USER") => {}
        Some(other) => {
            return Err(ApiError::validation(
                "scope",
                format!("only USER assignments can be created, not '{other}'"),
            ));
        }
    }
    body.object("credentials")?;
    body.str_opt("credentials.userName")?;
    body.object("profile")?;
    let app = find(&state, &id).await?;
    let user = find_user(&state, &user_id).await?;
    apps::assign_user(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &user,
    )
    .await?;
    Ok(Json(app_user_json(
        &origin,
        &app,
        &user,
        AssignmentScope::User,
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/users/{uid}",
    tag = "Apps",
    summary = "Get a user assignment",
    params(
        ("id" = String, Path, description = "An app id"),
        ("uid" = String, Path, description = "A user id"),
    ),
    responses(
        (status = 200, description = "The assignment", body = super::super::openapi::AppUserDoc),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = find(&state, &id).await?;
    let user = find_user(&state, &user_id).await?;
    let scope = apps::user_assignment(&state.provider, &app, &user).await?;
    Ok(Json(app_user_json(&origin, &app, &user, scope)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/apps/{id}/users/{uid}",
    tag = "Apps",
    summary = "Remove a user assignment",
    params(
        ("id" = String, Path, description = "An app id"),
        ("uid" = String, Path, description = "A user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        super::super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn unassign_user(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find(&state, &id).await?;
    let user = find_user(&state, &user_id).await?;
    apps::unassign_user(
        &state.provider,
        &audit::actor(&caller, &client),
        &app,
        &user,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
