//! `/api/v1/apps` (OIDC apps): create, list, get, replace, lifecycle, delete, group and user
//! assignments, client secrets; and `/api/v1/users/{id}/appLinks`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{
    App, AppGroupAssignment, AppQuery, AppStatus, ApplicationType, ClientMetadata, IssuerMode,
    RotationType, TokenEndpointAuthMethod, User,
};
use gatehouse_core::services::apps::{self, AssignmentScope, ClientSecretView, OidcAppSpec};
use gatehouse_core::services::directory;
use serde_json::{Map, Value, json};

use super::audit;
use super::auth::Caller;
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, okta_date, pagination_links};
use crate::AppState;
use crate::client_ip::Client;

/// Okta's spec gives no app default ("server default"); 200 like users.
const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 200;
const GROUPS_DEFAULT_LIMIT: u32 = 20;
const GROUPS_MAX_LIMIT: u32 = 200;
const USERS_DEFAULT_LIMIT: u32 = 50;
const USERS_MAX_LIMIT: u32 = 500;

const CREDS: &str = "credentials.oauthClient";
const SETTINGS: &str = "settings.oauthClient";

fn href(url: String) -> Value {
    json!({ "href": url })
}

fn post_href(url: String) -> Value {
    json!({ "href": url, "hints": { "allow": ["POST"] } })
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

/// Okta's `OpenIdConnectApplication`. `client_secret` is only ever shown when just created.
pub(crate) fn app_json(origin: &str, app: &App, client_secret: Option<&str>) -> Value {
    let base = format!("{origin}/api/v1/apps/{}", app.id);
    let s = &app.settings;
    let hidden = s.login_mode == "DISABLED";

    let mut creds = Map::new();
    creds.insert("autoKeyRotation".into(), json!(true));
    creds.insert("client_id".into(), json!(app.client_id));
    if let Some(secret) = client_secret {
        creds.insert("client_secret".into(), json!(secret));
    }
    creds.insert(
        "token_endpoint_auth_method".into(),
        json!(s.token_endpoint_auth_method.as_str()),
    );
    creds.insert("pkce_required".into(), json!(s.pkce_required));

    let mut client = Map::new();
    let m = &s.metadata;
    insert_opt(&mut client, "client_uri", &m.client_uri);
    insert_opt(&mut client, "logo_uri", &m.logo_uri);
    insert_opt(&mut client, "policy_uri", &m.policy_uri);
    insert_opt(&mut client, "tos_uri", &m.tos_uri);
    client.insert("redirect_uris".into(), json!(s.redirect_uris));
    client.insert(
        "post_logout_redirect_uris".into(),
        json!(s.post_logout_redirect_uris),
    );
    client.insert("response_types".into(), json!(s.response_types));
    client.insert("grant_types".into(), json!(s.grant_types));
    client.insert(
        "application_type".into(),
        json!(s.application_type.as_str()),
    );
    client.insert("consent_method".into(), json!(s.consent_method.as_str()));
    client.insert("issuer_mode".into(), json!(s.issuer_mode.as_str()));
    client.insert(
        "idp_initiated_login".into(),
        json!({ "mode": s.login_mode, "default_scope": m.default_scope }),
    );
    insert_opt(&mut client, "initiate_login_uri", &s.initiate_login_uri);
    if let Some(jwks) = &s.jwks {
        client.insert("jwks".into(), json!(jwks));
    }
    insert_opt(&mut client, "jwks_uri", &s.jwks_uri);
    client.insert("wildcard_redirect".into(), json!("DISABLED"));
    client.insert("dpop_bound_access_tokens".into(), json!(false));
    if s.grant_types.iter().any(|g| g == "refresh_token") {
        let policy = s.refresh_policy();
        client.insert(
            "refresh_token".into(),
            json!({ "rotation_type": policy.rotation_type.as_str(), "leeway": policy.leeway }),
        );
    }

    let mut links = Map::new();
    links.insert("self".into(), href(base.clone()));
    links.insert("groups".into(), href(format!("{base}/groups")));
    links.insert("users".into(), href(format!("{base}/users")));
    links.insert(
        "secrets".into(),
        href(format!("{base}/credentials/secrets")),
    );
    match app.status {
        AppStatus::Active => links.insert(
            "deactivate".into(),
            post_href(format!("{base}/lifecycle/deactivate")),
        ),
        AppStatus::Inactive => links.insert(
            "activate".into(),
            post_href(format!("{base}/lifecycle/activate")),
        ),
    };
    if let Some(uri) = &s.initiate_login_uri {
        links.insert(
            "appLinks".into(),
            json!([{ "name": "oidc_client_link", "href": uri, "type": "text/html" }]),
        );
    }

    json!({
        "id": app.id,
        "name": app.name,
        "label": app.label,
        "status": app.status.as_str(),
        "created": okta_date(app.created),
        "lastUpdated": okta_date(app.last_updated),
        "signOnMode": "OPENID_CONNECT",
        "features": [],
        "accessibility": { "selfService": false },
        "visibility": {
            "autoSubmitToolbar": false,
            "autoLaunch": false,
            "hide": { "iOS": hidden, "web": hidden },
            "appLinks": { "oidc_client_link": !hidden },
        },
        "credentials": {
            "userNameTemplate": { "template": "${source.login}", "type": "BUILT_IN" },
            "signing": {},
            "oauthClient": creds,
        },
        "settings": {
            "implicitAssignment": false,
            "notes": {},
            "oauthClient": client,
        },
        "_links": links,
    })
}

fn group_assignment_json(origin: &str, app: &App, a: &AppGroupAssignment) -> Value {
    let base = format!("{origin}/api/v1/apps/{}", app.id);
    json!({
        "id": a.group_id,
        "priority": a.priority,
        "lastUpdated": okta_date(app.last_updated),
        "profile": {},
        "_links": {
            "app": href(base.clone()),
            "self": href(format!("{base}/groups/{}", a.group_id)),
            "group": href(format!("{origin}/api/v1/groups/{}", a.group_id)),
        },
    })
}

fn app_user_json(origin: &str, app: &App, user: &User, scope: AssignmentScope) -> Value {
    let mut links = Map::new();
    links.insert(
        "app".into(),
        href(format!("{origin}/api/v1/apps/{}", app.id)),
    );
    links.insert(
        "user".into(),
        href(format!("{origin}/api/v1/users/{}", user.id)),
    );
    json!({
        "id": user.id,
        "externalId": null,
        "created": okta_date(user.created),
        "lastUpdated": okta_date(user.last_updated),
        "scope": scope.as_str(),
        "status": "ACTIVE",
        "syncState": "DISABLED",
        "credentials": { "userName": user.login },
        "profile": {},
        "_links": links,
    })
}

/// Okta's `OAuth2ClientSecret`: the value only when just created, lifecycle links by status.
fn secret_json(origin: &str, app: &App, secret: &ClientSecretView) -> Value {
    let base = format!(
        "{origin}/api/v1/apps/{}/credentials/secrets/{}",
        app.id, secret.secret.id
    );
    let mut links = Map::new();
    match secret.secret.status {
        AppStatus::Active => {
            links.insert(
                "deactivate".into(),
                post_href(format!("{base}/lifecycle/deactivate")),
            );
        }
        AppStatus::Inactive => {
            links.insert(
                "activate".into(),
                post_href(format!("{base}/lifecycle/activate")),
            );
            links.insert(
                "delete".into(),
                json!({ "href": base, "hints": { "allow": ["DELETE"] } }),
            );
        }
    }
    let mut v = json!({
        "id": secret.secret.id,
        "status": secret.secret.status.as_str(),
        "secret_hash": secret.secret_hash,
        "created": okta_date(secret.secret.created),
        "lastUpdated": okta_date(secret.secret.last_updated),
        "_links": links,
    });
    if let (Some(s), Some(map)) = (&secret.client_secret, v.as_object_mut()) {
        map.insert("client_secret".into(), json!(s));
    }
    v
}

fn required(field: &str) -> ApiError {
    ApiError::validation(field, "this field is required")
}

/// An optional string setting where `""` means unset (as some clients send).
fn opt_str(body: &JsonBody, path: &str) -> Result<Option<String>, ApiError> {
    Ok(body.str_opt(path)?.filter(|s| !s.is_empty()))
}

fn parse_enum<T>(
    body: &JsonBody,
    path: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    let field = path.rsplit('.').next().unwrap_or(path);
    match body.str_opt(path)? {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .ok_or_else(|| ApiError::validation(field, format!("'{v}' is not one of {allowed}"))),
    }
}

/// The create/replace body: Okta's `OpenIdConnectApplication`. Unknown fields are ignored.
fn parse_spec(body: &JsonBody, active: bool) -> Result<OidcAppSpec, ApiError> {
    match body.str_opt("name")? {
        None => return Err(required("name")),
        Some(n) if n != "oidc_client" => {
            return Err(ApiError::validation(
                "name",
                format!("only OIDC apps (name 'oidc_client') are supported, not '{n}'"),
            ));
        }
        Some(_) => {}
    }
    if let Some(mode) = body.str_opt("signOnMode")?
        && mode != "OPENID_CONNECT"
    {
        return Err(ApiError::validation(
            "signOnMode",
            format!("only OPENID_CONNECT is supported, not '{mode}'"),
        ));
    }
    let label = body.str_opt("label")?.ok_or_else(|| required("label"))?;
    for path in ["credentials", CREDS, "settings", SETTINGS] {
        body.object(path)?;
    }
    let at = |leaf: &str| format!("{SETTINGS}.{leaf}");
    let cred = |leaf: &str| format!("{CREDS}.{leaf}");
    let application_type = parse_enum(
        body,
        &at("application_type"),
        ApplicationType::parse,
        "web, browser, service, native",
    )?
    .unwrap_or(ApplicationType::Web);
    let mut spec = OidcAppSpec::new(label, application_type);
    spec.active = active;
    spec.token_endpoint_auth_method = parse_enum(
        body,
        &cred("token_endpoint_auth_method"),
        TokenEndpointAuthMethod::parse,
        "none, client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt",
    )?;
    spec.pkce_required = body.bool_opt(&cred("pkce_required"))?;
    body.bool_opt(&cred("autoKeyRotation"))?;
    spec.client_id = opt_str(body, &cred("client_id"))?;
    spec.client_secret = opt_str(body, &cred("client_secret"))?;
    spec.redirect_uris = body.string_list(&at("redirect_uris"))?;
    spec.post_logout_redirect_uris = body.string_list(&at("post_logout_redirect_uris"))?;
    spec.grant_types = body.string_list(&at("grant_types"))?;
    spec.response_types = body.string_list(&at("response_types"))?;
    spec.initiate_login_uri = opt_str(body, &at("initiate_login_uri"))?;
    // private_key_jwt clients bring their public keys (private members are stripped).
    spec.jwks = body.object(&at("jwks"))?.cloned();
    spec.jwks_uri = opt_str(body, &at("jwks_uri"))?;
    body.object(&at("idp_initiated_login"))?;
    spec.login_mode = opt_str(body, &at("idp_initiated_login.mode"))?;
    spec.issuer_mode = parse_enum(
        body,
        &at("issuer_mode"),
        IssuerMode::parse,
        "ORG_URL, CUSTOM_URL, DYNAMIC",
    )?;
    body.object(&at("refresh_token"))?;
    spec.refresh_rotation = parse_enum(
        body,
        &at("refresh_token.rotation_type"),
        RotationType::parse,
        "ROTATE, STATIC",
    )?;
    spec.refresh_leeway = body.i64_opt(&at("refresh_token.leeway"))?;
    spec.consent_method = opt_str(body, &at("consent_method"))?;
    spec.wildcard_redirect = opt_str(body, &at("wildcard_redirect"))?;
    spec.metadata = ClientMetadata {
        client_uri: opt_str(body, &at("client_uri"))?,
        logo_uri: opt_str(body, &at("logo_uri"))?,
        policy_uri: opt_str(body, &at("policy_uri"))?,
        tos_uri: opt_str(body, &at("tos_uri"))?,
        default_scope: body.string_list(&at("idp_initiated_login.default_scope"))?,
    };
    Ok(spec)
}

/// A JSON object body that may be empty (SDKs send `{}`, nothing, or octet-stream).
fn optional_body(bytes: &Bytes) -> Result<JsonBody, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonBody(json!({})));
    }
    JsonBody::from_bytes(bytes)
}

async fn find(state: &AppState, id: &str) -> Result<App, ApiError> {
    Ok(directory::find_app_by_id_or_client_id(&state.provider, id).await?)
}

async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    Ok(directory::find_user_by_id_or_login(&state.provider, id).await?)
}

#[utoipa::path(
    post,
    path = "/api/v1/apps",
    tag = "Apps",
    summary = "Create an OIDC app",
    params(
        ("activate" = Option<bool>, Query, description = "Activate the app (default true)"),
    ),
    request_body = super::openapi::AppBody,
    responses(
        (status = 200, description = "The new app, with its client secret (shown once)", body = super::openapi::AppDoc),
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
        super::openapi::PageParams,
        ("q" = Option<String>, Query, description = "Starts-with match on label or name"),
        ("filter" = Option<String>, Query, description = "e.g. `status eq \"ACTIVE\"`"),
    ),
    responses(
        (status = 200, description = "A page of apps", body = Vec<super::openapi::AppDoc>),
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
        (status = 200, description = "The app", body = super::openapi::AppDoc),
        super::openapi::ApiErrors,
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
    request_body = super::openapi::AppBody,
    responses(
        (status = 200, description = "The app", body = super::openapi::AppDoc),
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
        super::openapi::ApiErrors,
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
        super::openapi::ApiErrors,
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

// ---- group assignments

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/groups",
    tag = "Apps",
    summary = "The app's group assignments",
    params(
        ("id" = String, Path, description = "An app id"),
        super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "Group assignments", body = Vec<super::openapi::AppGroupDoc>),
        super::openapi::ApiErrors,
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
    request_body = Option<super::openapi::AppGroupBody>,
    responses(
        (status = 200, description = "The assignment", body = super::openapi::AppGroupDoc),
        super::openapi::ApiErrors,
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
        (status = 200, description = "The assignment", body = super::openapi::AppGroupDoc),
        super::openapi::ApiErrors,
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
        super::openapi::ApiErrors,
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
        super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "App users", body = Vec<super::openapi::AppUserDoc>),
        super::openapi::ApiErrors,
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
    request_body = super::openapi::AppUserBody,
    responses(
        (status = 200, description = "The assignment", body = super::openapi::AppUserDoc),
        super::openapi::ApiErrors,
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
        (status = 200, description = "The assignment", body = super::openapi::AppUserDoc),
        super::openapi::ApiErrors,
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
        super::openapi::ApiErrors,
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

// ---- client secrets

#[utoipa::path(
    get,
    path = "/api/v1/apps/{id}/credentials/secrets",
    tag = "Apps",
    summary = "The app's client secrets (their hashes only)",
    params(
        ("id" = String, Path, description = "An app id"),
    ),
    responses(
        (status = 200, description = "Secrets", body = Vec<super::openapi::ClientSecretDoc>),
        super::openapi::ApiErrors,
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
        (status = 201, description = "The new secret", body = super::openapi::ClientSecretDoc),
        super::openapi::ApiErrors,
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
        (status = 200, description = "The secret", body = super::openapi::ClientSecretDoc),
        super::openapi::ApiErrors,
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
        (status = 200, description = "The secret", body = super::openapi::ClientSecretDoc),
        super::openapi::ApiErrors,
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
        super::openapi::ApiErrors,
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

// ---- the user's app links

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/appLinks",
    tag = "Users",
    summary = "A user's app tiles",
    params(
        ("id" = String, Path, description = "A user id, a login, or `me`"),
    ),
    responses(
        (status = 200, description = "App links", body = Vec<super::openapi::AppLinkDoc>),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn app_links(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let key = if id == "me" {
        caller
            .0
            .user()
            .map(|u| u.id.clone())
            .ok_or_else(|| ApiError::NotFound("me (User)".into()))?
    } else {
        id
    };
    let user = find_user(&state, &key).await?;
    let found = apps::user_apps(&state.provider, &user).await?;
    let links: Vec<_> = found
        .iter()
        .enumerate()
        .map(|(i, app)| {
            let hidden = app.settings.login_mode == "DISABLED";
            json!({
                "id": format!("{}-{}", app.id, user.id),
                "appAssignmentId": format!("{}-{}", app.id, user.id),
                "appInstanceId": app.id,
                "appName": app.name,
                "label": app.label,
                "linkUrl": app.settings.initiate_login_uri.clone().unwrap_or_default(),
                "logoUrl": app.settings.metadata.logo_uri.clone().unwrap_or_default(),
                "credentialsSetup": false,
                "hidden": hidden,
                "sortOrder": i,
            })
        })
        .collect();
    Ok(Json(Value::Array(links)))
}
