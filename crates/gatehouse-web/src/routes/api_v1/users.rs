//! `/api/v1/users`.

use super::audit;
use crate::client_ip::Client;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{User, UserFilter};
use gatehouse_core::services::admin_roles;
use gatehouse_core::services::directory;
use gatehouse_core::services::filter::parse_user_filter;
use gatehouse_core::services::system_log::ClientInfo;
use gatehouse_core::services::users::{self, Lifecycle, NewUser, ProfileUpdate};

use serde_json::{Value, json};

use super::auth::Caller;
use super::groups::group_json;
use super::user_json::{UserJson, users_page};
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query};
use crate::AppState;

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 200;

/// `{id}` may be an id, a login, or `me` (the token's owner).
pub(crate) async fn resolve(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<User, ApiError> {
    let key = if key == "me" {
        // A service app acts as no user: `me` does not exist for it.
        match caller.0.user() {
            Some(user) => user.id.as_str(),
            None => return Err(ApiError::NotFound("me (User)".into())),
        }
    } else {
        key
    };
    Ok(directory::find_user_by_id_or_login(&state.provider, key).await?)
}

/// [`resolve`] for a request that changes the user (profile, credentials, status): an
/// administrator's account is out of reach of API scopes (only a super administrator's API
/// token may change it).
pub(crate) async fn resolve_for_change(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<User, ApiError> {
    let user = resolve(state, caller, key).await?;
    let is_admin = admin_roles::holds_admin_role(&state.provider, &user).await?;
    caller.0.may_change_account(is_admin)?;
    Ok(user)
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "Users",
    summary = "List or search users",
    params(
        super::openapi::PageParams,
        ("q" = Option<String>, Query, description = "Starts-with match on login, email, first or last name (case-insensitive): the first `limit` matches, sorted by the matching value, with no next page"),
        ("filter" = Option<String>, Query, description = "Okta filter expression, e.g. `status eq \"ACTIVE\"`"),
        ("search" = Option<String>, Query, description = "Okta search expression"),
    ),
    responses(
        (status = 200, description = "A page of users; `Link` headers page on", body = Vec<super::openapi::UserDoc>),
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
    let mut filter: Option<UserFilter> = None;
    let mut and = |f: UserFilter| {
        filter = Some(match filter.take() {
            Some(prev) => UserFilter::And(Box::new(prev), Box::new(f)),
            None => f,
        });
    };
    if let Some(f) = query.get("filter") {
        and(parse_user_filter(f)?);
    }
    if let Some(s) = query.get("search") {
        and(parse_user_filter(s).map_err(|e| {
            ApiError::validation("search", format!("Invalid search criteria: {}", e.0))
        })?);
    }
    // `q=` returns its first `limit` matches and no next page (Okta's rule), which keeps it to
    // a few index ranges however many users match; `after` is ignored with it.
    let (users, next) = match query.get("q") {
        Some(q) => (
            users::quick_search_users(&state.provider, q, filter.as_ref(), limit).await?,
            None,
        ),
        None => {
            users::search_users(&state.provider, filter.as_ref(), query.get("after"), limit).await?
        }
    };
    let links = super::pagination_links(&origin, "/api/v1/users", &query, next.as_deref());
    Ok((links, users_page(&origin, &users)?).into_response())
}

fn profile_update(body: &JsonBody) -> Result<ProfileUpdate, ApiError> {
    body.object("profile")?;
    body.object("credentials")?;
    Ok(ProfileUpdate {
        login: body.str_opt("profile.login")?,
        email: body.str_opt("profile.email")?,
        first_name: body.str_opt("profile.firstName")?,
        last_name: body.str_opt("profile.lastName")?,
        display_name: body.string("profile.displayName")?,
        password: body.str_opt("credentials.password.value")?,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "Users",
    summary = "Create a user",
    params(
        ("activate" = Option<bool>, Query, description = "Activate the user (default true)"),
    ),
    request_body = super::openapi::CreateUserBody,
    responses(
        (status = 200, description = "The new user", body = super::openapi::UserDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let activate = query.bool("activate", true)?;
    if body.object("profile")?.is_none() {
        return Err(ApiError::validation("profile", "this field is required"));
    }
    let p = profile_update(&body)?;
    let password_hash = super::users_credentials::imported_password_hash(&body)?;
    // Resolve groups first, so a bad id creates nothing.
    let mut groups = Vec::new();
    for id in body.string_list("groupIds")? {
        groups.push(directory::find_group_by_id_or_name(&state.provider, &id).await?);
    }
    let actor = audit::actor(&caller, &client);
    let user = users::create_user(
        &state.provider,
        &actor,
        NewUser {
            login: p.login.unwrap_or_default(),
            email: p.email.unwrap_or_default(),
            first_name: p.first_name.unwrap_or_default(),
            last_name: p.last_name.unwrap_or_default(),
            display_name: p.display_name.flatten().filter(|d| !d.is_empty()),
            password: p.password,
            password_hash,
            activate,
        },
    )
    .await?;
    for g in &groups {
        gatehouse_core::services::groups::add_group_member(&state.provider, &actor, g, &user)
            .await?;
    }
    super::user_links::after_create(&state, &user, &origin).await?;
    Ok((StatusCode::OK, Json(UserJson::new(&origin, &user))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "Users",
    summary = "Get a user",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    responses(
        (status = 200, description = "The user", body = super::openapi::UserDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    Ok(Json(UserJson::new(&origin, &user)).into_response())
}

async fn update(
    state: AppState,
    caller: Caller,
    client: ClientInfo,
    origin: String,
    id: String,
    body: JsonBody,
    full: bool,
) -> Result<Response, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    if full && body.object("profile")?.is_none() {
        return Err(ApiError::validation("profile", "this field is required"));
    }
    let update = profile_update(&body)?;
    let user = users::update_user(
        &state.provider,
        &audit::actor(&caller, &client),
        user,
        update,
        full,
    )
    .await?;
    Ok(Json(UserJson::new(&origin, &user)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}",
    tag = "Users",
    summary = "Update some of a user's profile or password",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    request_body = super::openapi::UpdateUserBody,
    responses(
        (status = 200, description = "The updated user", body = super::openapi::UserDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn update_partial(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update(state, caller, client, origin, id, body, false).await
}

#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "Users",
    summary = "Replace a user's profile",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    request_body = super::openapi::UpdateUserBody,
    responses(
        (status = 200, description = "The updated user", body = super::openapi::UserDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn update_full(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update(state, caller, client, origin, id, body, true).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "Users",
    summary = "Deactivate a user, or delete a deactivated one",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    responses(
        (status = 204, description = "Deactivated or deleted"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let user = resolve_for_change(&state, &caller, &id).await?;
    if caller.0.user().is_some_and(|me| me.id == user.id) {
        return Err(ApiError::Forbidden(
            "An API token cannot deactivate or delete its own user.".into(),
        ));
    }
    users::delete_user(&state.provider, &audit::actor(&caller, &client), user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/lifecycle/{op}",
    tag = "Users",
    summary = "Change a user's status",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
        ("op" = String, Path, description = "activate, reactivate, deactivate, suspend, unsuspend, unlock, expire_password or reset_password"),
        ("sendEmail" = Option<bool>, Query, description = "activate, reactivate, reset_password: mail the link (default true); false returns it"),
    ),
    responses(
        (status = 200, description = "Done", body = Object),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    if op == "reset_password" {
        return super::user_links::reset_password(&state, &caller, &client, &origin, &query, &id)
            .await;
    }
    let op = Lifecycle::parse(&op)
        .ok_or_else(|| ApiError::NotFound(format!("/api/v1/users/{id}/lifecycle/{op} (POST)")))?;
    if matches!(op, Lifecycle::Activate | Lifecycle::Reactivate) {
        return super::user_links::activate(&state, &caller, &client, &origin, &query, &id, op)
            .await;
    }
    let user = resolve_for_change(&state, &caller, &id).await?;
    if caller.0.user().is_some_and(|me| me.id == user.id)
        && matches!(op, Lifecycle::Deactivate | Lifecycle::Suspend)
    {
        return Err(ApiError::Forbidden(
            "An API token cannot deactivate or suspend its own user.".into(),
        ));
    }
    let user = users::lifecycle(&state.provider, &audit::actor(&caller, &client), user, op).await?;
    Ok(match op {
        Lifecycle::ExpirePassword => Json(UserJson::new(&origin, &user)).into_response(),
        _ => Json(json!({})).into_response(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/groups",
    tag = "Users",
    summary = "A user's groups",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    responses(
        (status = 200, description = "The groups", body = Vec<super::openapi::GroupDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let groups = gatehouse_core::services::groups::user_groups(&state.provider, &user).await?;
    Ok(Json(Value::Array(
        groups.iter().map(|g| group_json(&origin, g)).collect(),
    )))
}
