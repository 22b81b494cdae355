//! `/api/v1/groups`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::Group;
use gatehouse_core::services::directory;
use gatehouse_core::services::groups;
use serde_json::{Value, json};

use super::audit;
use super::auth::Caller;
use super::user_json::users_page;
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, okta_date, pagination_links};
use crate::AppState;
use crate::client_ip::Client;

const DEFAULT_LIMIT: u32 = 10_000;
const MAX_LIMIT: u32 = 10_000;
const MEMBERS_DEFAULT_LIMIT: u32 = 1_000;
const MEMBERS_MAX_LIMIT: u32 = 10_000;

pub(crate) fn group_json(origin: &str, g: &Group) -> Value {
    let base = format!("{origin}/api/v1/groups/{}", g.id);
    json!({
        "id": g.id,
        "created": okta_date(g.created),
        "lastUpdated": okta_date(g.last_updated),
        "lastMembershipUpdated": okta_date(g.last_updated),
        "objectClass": ["okta:user_group"],
        "type": g.group_type.as_str(),
        "profile": { "name": g.name, "description": g.description },
        "_links": {
            "self": { "href": base },
            "users": { "href": format!("{base}/users") },
            "apps": { "href": format!("{base}/apps") },
        },
    })
}

async fn find(state: &AppState, id: &str) -> Result<Group, ApiError> {
    Ok(directory::find_group_by_id_or_name(&state.provider, id).await?)
}

/// `profile.name` and `profile.description` of a create/replace body.
fn profile(body: &JsonBody) -> Result<(String, String), ApiError> {
    if body.object("profile")?.is_none() {
        return Err(ApiError::validation("profile", "this field is required"));
    }
    let name = body
        .str_opt("profile.name")?
        .ok_or_else(|| ApiError::validation("name", "this field is required"))?;
    let description = body.str_opt("profile.description")?.unwrap_or_default();
    Ok((name, description))
}

#[utoipa::path(
    get,
    path = "/api/v1/groups",
    tag = "Groups",
    summary = "List groups",
    params(
        super::openapi::PageParams,
        ("q" = Option<String>, Query, description = "Starts-with match on the name"),
    ),
    responses(
        (status = 200, description = "A page of groups", body = Vec<super::openapi::GroupDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ApiError> {
    let limit = query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let (groups, next) =
        groups::list_groups(&state.provider, query.get("q"), query.get("after"), limit).await?;
    let body: Vec<_> = groups.iter().map(|g| group_json(&origin, g)).collect();
    let links = pagination_links(&origin, "/api/v1/groups", &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/groups",
    tag = "Groups",
    summary = "Create a group",
    request_body = super::openapi::GroupBody,
    responses(
        (status = 200, description = "The new group", body = super::openapi::GroupDoc),
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
    let (name, description) = profile(&body)?;
    let group = groups::create_group(
        &state.provider,
        &audit::actor(&caller, &client),
        &name,
        &description,
    )
    .await?;
    Ok(Json(group_json(&origin, &group)))
}

#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}",
    tag = "Groups",
    summary = "Get a group",
    params(
        ("id" = String, Path, description = "A group id"),
    ),
    responses(
        (status = 200, description = "The group", body = super::openapi::GroupDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let group = find(&state, &id).await?;
    Ok(Json(group_json(&origin, &group)))
}

#[utoipa::path(
    put,
    path = "/api/v1/groups/{id}",
    tag = "Groups",
    summary = "Replace a group's profile",
    params(
        ("id" = String, Path, description = "A group id"),
    ),
    request_body = super::openapi::GroupBody,
    responses(
        (status = 200, description = "The group", body = super::openapi::GroupDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let group = find(&state, &id).await?;
    let (name, description) = profile(&body)?;
    let group = groups::update_group(
        &state.provider,
        &audit::actor(&caller, &client),
        group,
        &name,
        &description,
    )
    .await?;
    Ok(Json(group_json(&origin, &group)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/groups/{id}",
    tag = "Groups",
    summary = "Delete a group",
    params(
        ("id" = String, Path, description = "A group id"),
    ),
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
    let group = find(&state, &id).await?;
    groups::delete_group(&state.provider, &audit::actor(&caller, &client), &group).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}/users",
    tag = "Groups",
    summary = "A group's members",
    params(
        ("id" = String, Path, description = "A group id"),
        super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "A page of users", body = Vec<super::openapi::UserDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn members(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let group = find(&state, &id).await?;
    let limit = query.limit(MEMBERS_DEFAULT_LIMIT, MEMBERS_MAX_LIMIT)?;
    let (users, next) =
        groups::list_members(&state.provider, &group, query.get("after"), limit).await?;
    let path = format!("/api/v1/groups/{}/users", group.id);
    let links = pagination_links(&origin, &path, &query, next.as_deref());
    Ok((links, users_page(&origin, &users)?).into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/groups/{gid}/users/{uid}",
    tag = "Groups",
    summary = "Add a member",
    params(
        ("gid" = String, Path, description = "A group id"),
        ("uid" = String, Path, description = "A user id or login"),
    ),
    responses(
        (status = 204, description = "Added"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((gid, uid)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let group = find(&state, &gid).await?;
    let user = directory::find_user_by_id_or_login(&state.provider, &uid).await?;
    let actor = audit::actor(&caller, &client);
    groups::add_group_member(&state.provider, &actor, &group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/api/v1/groups/{gid}/users/{uid}",
    tag = "Groups",
    summary = "Remove a member",
    params(
        ("gid" = String, Path, description = "A group id"),
        ("uid" = String, Path, description = "A user id or login"),
    ),
    responses(
        (status = 204, description = "Removed"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((gid, uid)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let group = find(&state, &gid).await?;
    let user = directory::find_user_by_id_or_login(&state.provider, &uid).await?;
    let actor = audit::actor(&caller, &client);
    groups::remove_group_member(&state.provider, &actor, &group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
