//! `/api/v1/users/{userId}/grants` and `/api/v1/users/{userId}/clients`: what a user consented
//! to (Okta's `OAuth2ScopeConsentGrant` with `source: END_USER`, and `OAuth2Client`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_core::authz::server_config;
use gatehouse_core::domain::{App, ConsentGrant, User};
use gatehouse_core::services::user_grants;
use serde_json::{Value, json};

use super::auth::Caller;
use super::users::resolve;
use super::{ApiError, ApiOrigin, ApiPath, Query, audit, okta_date};
use crate::AppState;
use crate::client_ip::Client;

fn grant_json(origin: &str, g: &ConsentGrant, scope: Option<Value>) -> Value {
    let user_href = format!("{origin}/api/v1/users/{}", g.user_id);
    let server_href = format!("{origin}/api/v1/authorizationServers/{}", g.auth_server_id);
    let mut out = json!({
        "id": g.id,
        "status": "ACTIVE",
        "created": okta_date(g.created),
        "lastUpdated": okta_date(g.last_updated),
        "issuer": g.issuer,
        "clientId": g.client_id,
        "userId": g.user_id,
        "scopeId": g.scope_id,
        "source": "END_USER",
        "_links": {
            "self": { "href": format!("{user_href}/grants/{}", g.id) },
            "user": { "href": user_href },
            "client": { "href": format!("{origin}/oauth2/v1/clients/{}", g.client_id) },
            "authorizationServer": { "href": server_href },
            "scope": { "href": format!("{server_href}/scopes/{}", g.scope_id) },
        },
    });
    if let (Some(scope), Some(map)) = (scope, out.as_object_mut()) {
        map.insert("_embedded".into(), json!({ "scope": scope }));
    }
    out
}

/// `expand=scope` embeds each grant's scope (as it is now, or as granted if it is gone).
async fn grants_json(
    state: &AppState,
    origin: &str,
    query: &Query,
    grants: &[ConsentGrant],
) -> Result<Value, ApiError> {
    let expand = query
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "scope"));
    let mut out = Vec::with_capacity(grants.len());
    for g in grants {
        let scope = if expand {
            let config = server_config(&state.provider, &g.auth_server_id)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let found = config.scopes.iter().find(|s| s.id == g.scope_id);
            Some(json!({
                "id": g.scope_id,
                "name": found.map_or(g.scope_name.as_str(), |s| s.name.as_str()),
                "displayName": found.and_then(|s| s.display_name.clone()),
                "description": found.and_then(|s| s.description.clone()),
            }))
        } else {
            None
        };
        out.push(grant_json(origin, g, scope));
    }
    Ok(Value::Array(out))
}

fn client_json(origin: &str, user: &User, app: &App) -> Value {
    let m = &app.settings.metadata;
    let user_href = format!("{origin}/api/v1/users/{}", user.id);
    json!({
        "client_id": app.client_id,
        "client_name": app.label,
        "client_uri": m.client_uri,
        "logo_uri": m.logo_uri,
        "_links": {
            "grants": { "href": format!("{user_href}/clients/{}/grants", app.client_id) },
            "app": { "href": format!("{origin}/api/v1/apps/{}", app.id) },
        },
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/grants",
    tag = "Users",
    summary = "The user's consent grants",
    params(
        ("id" = String, Path, description = "A user id, login, or `me`"),
        ("scopeId" = Option<String>, Query, description = "Only grants for this scope"),
        ("expand" = Option<String>, Query, description = "`scope` embeds each grant's scope"),
    ),
    responses(
        (status = 200, description = "Grants", body = Vec<super::openapi::UserGrantDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let grants = user_grants::list(&state.provider, &user, query.get("scopeId")).await?;
    Ok(Json(grants_json(&state, &origin, &query, &grants).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/grants/{grant_id}",
    tag = "Users",
    summary = "Get a consent grant of the user",
    params(
        ("id" = String, Path, description = "A user id, login, or `me`"),
        ("grant_id" = String, Path, description = "A grant id"),
        ("expand" = Option<String>, Query, description = "`scope` embeds the grant's scope"),
    ),
    responses(
        (status = 200, description = "The grant", body = super::openapi::UserGrantDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, grant_id)): ApiPath<(String, String)>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let grant = user_grants::get(&state.provider, &user, &grant_id).await?;
    let mut one = grants_json(&state, &origin, &query, std::slice::from_ref(&grant)).await?;
    Ok(Json(one.get_mut(0).map(Value::take).unwrap_or_default()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/grants/{grant_id}",
    tag = "Users",
    summary = "Revoke a consent grant of the user",
    params(
        ("id" = String, Path, description = "A user id, login, or `me`"),
        ("grant_id" = String, Path, description = "A grant id"),
    ),
    responses((status = 204, description = "Revoked"), super::openapi::ApiErrors),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, grant_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    user_grants::revoke(&state.provider, &actor, &user, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/grants",
    tag = "Users",
    summary = "Revoke every consent grant of the user",
    params(("id" = String, Path, description = "A user id, login, or `me`")),
    responses((status = 204, description = "Revoked"), super::openapi::ApiErrors),
)]
pub(crate) async fn delete_all(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    user_grants::revoke_all(&state.provider, &actor, &user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/clients",
    tag = "Users",
    summary = "The clients the user granted consent to",
    params(("id" = String, Path, description = "A user id, login, or `me`")),
    responses(
        (status = 200, description = "Clients", body = Vec<super::openapi::UserClientDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn clients(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let clients = user_grants::clients(&state.provider, &user).await?;
    Ok(Json(Value::Array(
        clients
            .iter()
            .map(|(app, _)| client_json(&origin, &user, app))
            .collect(),
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/clients/{client_id}/grants",
    tag = "Users",
    summary = "The user's consent grants to one client",
    params(
        ("id" = String, Path, description = "A user id, login, or `me`"),
        ("client_id" = String, Path, description = "A client id"),
        ("expand" = Option<String>, Query, description = "`scope` embeds each grant's scope"),
    ),
    responses(
        (status = 200, description = "Grants", body = Vec<super::openapi::UserGrantDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn client_grants(
    State(state): State<AppState>,
    caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, client_id)): ApiPath<(String, String)>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let grants = user_grants::list_for_client(&state.provider, &user, &client_id).await?;
    Ok(Json(grants_json(&state, &origin, &query, &grants).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/clients/{client_id}/grants",
    tag = "Users",
    summary = "Revoke the user's consent grants to one client",
    params(
        ("id" = String, Path, description = "A user id, login, or `me`"),
        ("client_id" = String, Path, description = "A client id"),
    ),
    responses((status = 204, description = "Revoked"), super::openapi::ApiErrors),
)]
pub(crate) async fn delete_client_grants(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath((id, client_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = resolve(&state, &caller, &id).await?;
    let actor = audit::actor(&caller, &client);
    user_grants::revoke_all(&state.provider, &actor, &user, Some(&client_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
