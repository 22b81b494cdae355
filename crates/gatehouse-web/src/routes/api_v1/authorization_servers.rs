//! `/api/v1/authorizationServers`: Okta's custom authorization servers with their keys,
//! scopes, claims, access policies and rules. Handlers parse Okta's JSON into the specs of
//! `gatehouse_core::services::{auth_servers, auth_server_config}` and render the results.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{
    AccessPolicy, AppStatus, AuthServer, ClaimType, ClaimValueType, GroupFilterType, IssuerMode,
    KeyStatus, MetadataPublish, OAuthClaim, OAuthScope, PolicyRule, ScopeConsent, SigningKey,
};
use gatehouse_core::provider::Domains;
use gatehouse_core::services::auth_server_config::{
    self as config, ClaimSpec, PolicySpec, RuleSpec, ScopeSpec,
};
use gatehouse_core::services::auth_servers::{self, AuthServerError, AuthServerSpec};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::Caller;
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, okta_date, pagination_links};
use crate::AppState;

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 200;
/// Okta rotates automatically every 90 days; Gatehouse shows that schedule.
const ROTATION_PERIOD: i64 = 90 * 24 * 3600;

impl From<AuthServerError> for ApiError {
    fn from(e: AuthServerError) -> Self {
        match e {
            AuthServerError::NotFound(id) => Self::NotFound(format!("{id} (AuthorizationServer)")),
            AuthServerError::Missing { kind, id } => Self::NotFound(format!("{id} ({kind})")),
            AuthServerError::Invalid { field, message } => Self::validation(field, message),
            AuthServerError::Forbidden(detail) => Self::Forbidden(detail),
            other @ (AuthServerError::Keys(_) | AuthServerError::Store(_)) => {
                Self::Internal(other.to_string())
            }
        }
    }
}

fn hints(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

fn status_from_op(op: &str, path: &str) -> Result<AppStatus, ApiError> {
    match op {
        "activate" => Ok(AppStatus::Active),
        "deactivate" => Ok(AppStatus::Inactive),
        _ => Err(ApiError::NotFound(format!("{path} (POST)"))),
    }
}

fn base(origin: &str, id: &str) -> String {
    format!("{origin}/api/v1/authorizationServers/{id}")
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn server_json(domains: &Domains, origin: &str, s: &AuthServer, keys: &[SigningKey]) -> Value {
    let b = base(origin, &s.id);
    let issuer = domains.issuer(s, origin);
    let active = keys.iter().find(|k| k.status == KeyStatus::Active);
    let lifecycle = match s.status {
        AppStatus::Active => ("deactivate", format!("{b}/lifecycle/deactivate")),
        AppStatus::Inactive => ("activate", format!("{b}/lifecycle/activate")),
    };
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "audiences": s.audiences,
        "issuer": issuer,
        "issuerMode": s.issuer_mode.as_str(),
        "status": s.status.as_str(),
        "created": okta_date(s.created),
        "lastUpdated": okta_date(s.last_updated),
        "credentials": { "signing": {
            "rotationMode": "AUTO",
            "kid": active.map(|k| k.kid.clone()),
            "lastRotated": active.map(|k| okta_date(k.created)),
            "nextRotation": active.map(|k| okta_date(k.created + ROTATION_PERIOD)),
        }},
        "_links": {
            "scopes": hints(format!("{b}/scopes"), &["GET"]),
            "claims": hints(format!("{b}/claims"), &["GET"]),
            "policies": hints(format!("{b}/policies"), &["GET"]),
            "self": hints(b.clone(), &["GET", "DELETE", "PUT"]),
            "metadata": [
                hints(format!("{issuer}/.well-known/openid-configuration"), &["GET"]),
                hints(format!("{issuer}/.well-known/oauth-authorization-server"), &["GET"]),
            ],
            "rotateKey": hints(format!("{b}/credentials/lifecycle/keyRotate"), &["POST"]),
            lifecycle.0: hints(lifecycle.1, &["POST"]),
        },
    })
}

fn key_json(origin: &str, server_id: &str, k: &SigningKey) -> Value {
    let mut jwk: serde_json::Map<String, Value> =
        serde_json::from_str(&k.public_jwk).unwrap_or_default();
    jwk.insert("kid".into(), json!(k.kid));
    jwk.insert("alg".into(), json!(k.alg));
    jwk.insert("use".into(), json!("sig"));
    jwk.insert("status".into(), json!(k.status.as_str()));
    jwk.insert(
        "_links".into(),
        json!({ "self": hints(format!("{}/credentials/keys/{}", base(origin, server_id), k.kid), &["GET"]) }),
    );
    Value::Object(jwk)
}

fn scope_json(origin: &str, server_id: &str, s: &OAuthScope) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "displayName": s.display_name,
        "description": s.description,
        "system": s.system,
        "default": s.default,
        "optional": s.optional,
        "consent": s.consent.as_str(),
        "metadataPublish": s.metadata_publish.as_str(),
        "_links": { "self": hints(format!("{}/scopes/{}", base(origin, server_id), s.id), &["GET", "PUT", "DELETE"]) },
    })
}

fn claim_json(origin: &str, server_id: &str, c: &OAuthClaim) -> Value {
    let mut v = json!({
        "id": c.id,
        "name": c.name,
        "status": c.status.as_str(),
        "claimType": c.claim_type.as_str(),
        "valueType": c.value_type.as_str(),
        "value": c.value,
        "alwaysIncludeInToken": c.always_include_in_token,
        "conditions": { "scopes": c.scopes },
        "system": c.system,
        "_links": { "self": hints(format!("{}/claims/{}", base(origin, server_id), c.id), &["GET", "PUT", "DELETE"]) },
    });
    if let (Some(kind), Some(obj)) = (c.group_filter_type, v.as_object_mut()) {
        obj.insert("group_filter_type".into(), json!(kind.as_str()));
    }
    v
}

fn policy_json(origin: &str, server_id: &str, p: &AccessPolicy) -> Value {
    let b = format!("{}/policies/{}", base(origin, server_id), p.id);
    let lifecycle = match p.status {
        AppStatus::Active => ("deactivate", format!("{b}/lifecycle/deactivate")),
        AppStatus::Inactive => ("activate", format!("{b}/lifecycle/activate")),
    };
    json!({
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "id": p.id,
        "status": p.status.as_str(),
        "name": p.name,
        "description": p.description,
        "priority": p.priority,
        "system": p.system,
        "conditions": { "clients": { "include": p.clients } },
        "created": okta_date(p.created),
        "lastUpdated": okta_date(p.last_updated),
        "_links": {
            "self": hints(b.clone(), &["GET", "PUT", "DELETE"]),
            "rules": hints(format!("{b}/rules"), &["GET"]),
            lifecycle.0: hints(lifecycle.1, &["POST"]),
        },
    })
}

fn rule_json(origin: &str, server_id: &str, r: &PolicyRule) -> Value {
    let b = format!(
        "{}/policies/{}/rules/{}",
        base(origin, server_id),
        r.policy_id,
        r.id
    );
    let lifecycle = match r.status {
        AppStatus::Active => ("deactivate", format!("{b}/lifecycle/deactivate")),
        AppStatus::Inactive => ("activate", format!("{b}/lifecycle/activate")),
    };
    json!({
        "type": "RESOURCE_ACCESS",
        "id": r.id,
        "status": r.status.as_str(),
        "name": r.name,
        "priority": r.priority,
        "system": r.system,
        "created": okta_date(r.created),
        "lastUpdated": okta_date(r.last_updated),
        "conditions": {
            "people": {
                "users": { "include": r.users_include, "exclude": r.users_exclude },
                "groups": { "include": r.groups_include, "exclude": r.groups_exclude },
            },
            "grantTypes": { "include": r.grant_types },
            "scopes": { "include": r.scopes },
        },
        "actions": { "token": {
            "accessTokenLifetimeMinutes": r.access_token_lifetime_minutes,
            "refreshTokenLifetimeMinutes": r.refresh_token_lifetime_minutes,
            "refreshTokenWindowMinutes": r.refresh_token_window_minutes,
            "inlineHook": Value::Null,
        }},
        "_links": {
            "self": hints(b.clone(), &["GET", "PUT", "DELETE"]),
            lifecycle.0: hints(lifecycle.1, &["POST"]),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Parsing

fn required(body: &JsonBody, path: &str) -> Result<String, ApiError> {
    body.str_opt(path)?
        .ok_or_else(|| ApiError::validation(path, "this field is required"))
}

fn wire<T>(
    body: &JsonBody,
    path: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
    default: T,
) -> Result<T, ApiError> {
    match body.str_opt(path)? {
        None => Ok(default),
        Some(raw) => parse(&raw).ok_or_else(|| {
            ApiError::validation(path, format!("must be one of {}", names.join(", ")))
        }),
    }
}

fn status(body: &JsonBody) -> Result<AppStatus, ApiError> {
    wire(
        body,
        "status",
        AppStatus::parse,
        &["ACTIVE", "INACTIVE"],
        AppStatus::Active,
    )
}

fn server_spec(body: &JsonBody) -> Result<AuthServerSpec, ApiError> {
    Ok(AuthServerSpec {
        name: required(body, "name")?,
        description: body.str_opt("description")?.unwrap_or_default(),
        audiences: body.string_list("audiences")?,
        issuer_mode: wire(
            body,
            "issuerMode",
            IssuerMode::parse,
            &["ORG_URL", "DYNAMIC", "CUSTOM_URL"],
            IssuerMode::Dynamic,
        )?,
    })
}

fn scope_spec(body: &JsonBody) -> Result<ScopeSpec, ApiError> {
    Ok(ScopeSpec {
        name: required(body, "name")?,
        display_name: body.str_opt("displayName")?,
        description: body.str_opt("description")?,
        consent: wire(
            body,
            "consent",
            ScopeConsent::parse,
            ScopeConsent::names(),
            ScopeConsent::Implicit,
        )?,
        default: body.bool_opt("default")?.unwrap_or(false),
        metadata_publish: wire(
            body,
            "metadataPublish",
            MetadataPublish::parse,
            MetadataPublish::names(),
            MetadataPublish::NoClients,
        )?,
        optional: body.bool_opt("optional")?.unwrap_or(false),
    })
}

fn claim_spec(body: &JsonBody) -> Result<ClaimSpec, ApiError> {
    let claim_type = ClaimType::parse(&required(body, "claimType")?)
        .ok_or_else(|| ApiError::validation("claimType", "must be one of RESOURCE, IDENTITY"))?;
    let group_filter_type = match body.str_opt("group_filter_type")? {
        None => None,
        Some(raw) => Some(GroupFilterType::parse(&raw).ok_or_else(|| {
            ApiError::validation(
                "group_filter_type",
                format!("must be one of {}", GroupFilterType::names().join(", ")),
            )
        })?),
    };
    Ok(ClaimSpec {
        name: required(body, "name")?,
        status: status(body)?,
        claim_type,
        value_type: wire(
            body,
            "valueType",
            ClaimValueType::parse,
            ClaimValueType::names(),
            ClaimValueType::Expression,
        )?,
        value: required(body, "value")?,
        group_filter_type,
        always_include_in_token: body.bool_opt("alwaysIncludeInToken")?.unwrap_or(false),
        scopes: body.string_list("conditions.scopes")?,
    })
}

fn policy_spec(body: &JsonBody) -> Result<PolicySpec, ApiError> {
    if let Some(kind) = body.str_opt("type")?
        && kind != "OAUTH_AUTHORIZATION_POLICY"
    {
        return Err(ApiError::validation(
            "type",
            "must be OAUTH_AUTHORIZATION_POLICY",
        ));
    }
    Ok(PolicySpec {
        name: required(body, "name")?,
        description: required(body, "description")?,
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        clients: body.string_list("conditions.clients.include")?,
    })
}

fn rule_spec(body: &JsonBody) -> Result<RuleSpec, ApiError> {
    if let Some(kind) = body.str_opt("type")?
        && kind != "RESOURCE_ACCESS"
    {
        return Err(ApiError::validation("type", "must be RESOURCE_ACCESS"));
    }
    let mut groups_include = body.string_list("conditions.people.groups.include")?;
    let users_include = body.string_list("conditions.people.users.include")?;
    if body.object("conditions.people")?.is_none() {
        // No people condition: everyone, as Okta's console fills in.
        groups_include = vec![gatehouse_core::domain::EVERYONE_GROUP.into()];
    }
    let token = "actions.token";
    let minutes = |field: &str, default: i64| -> Result<i64, ApiError> {
        Ok(body
            .i64_opt(&format!("{token}.{field}"))?
            .unwrap_or(default))
    };
    let scopes = match body.object("conditions.scopes")? {
        None => vec![gatehouse_core::domain::ANY_SCOPE.into()],
        Some(_) => body.string_list("conditions.scopes.include")?,
    };
    Ok(RuleSpec {
        name: required(body, "name")?,
        priority: body.i64_opt("priority")?,
        status: status(body)?,
        grant_types: body.string_list("conditions.grantTypes.include")?,
        scopes,
        users_include,
        users_exclude: body.string_list("conditions.people.users.exclude")?,
        groups_include,
        groups_exclude: body.string_list("conditions.people.groups.exclude")?,
        access_token_lifetime_minutes: minutes(
            "accessTokenLifetimeMinutes",
            PolicyRule::DEFAULT_ACCESS_TOKEN_LIFETIME,
        )?,
        refresh_token_lifetime_minutes: minutes(
            "refreshTokenLifetimeMinutes",
            PolicyRule::DEFAULT_REFRESH_TOKEN_LIFETIME,
        )?,
        refresh_token_window_minutes: minutes(
            "refreshTokenWindowMinutes",
            PolicyRule::DEFAULT_REFRESH_TOKEN_WINDOW,
        )?,
    })
}

// ---------------------------------------------------------------------------------------------
// OpenAPI schemas (what the handlers return; see openapi.rs)

macro_rules! doc_object {
    ($name:ident as $as:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        #[schema(as = $as)]
        #[allow(dead_code)]
        pub(crate) struct $name {
            $($field: $ty,)*
            #[serde(rename = "_links")]
            #[schema(value_type = Object)]
            links: Value,
        }
    };
}

doc_object!(AuthorizationServerDoc as AuthorizationServer {
    id: String, name: String, description: String, audiences: Vec<String>, issuer: String,
    issuer_mode: String, status: String, created: String, last_updated: String,
});
doc_object!(OAuth2ScopeDoc as OAuth2Scope {
    id: String, name: String, display_name: Option<String>, description: Option<String>,
    system: bool, default: bool, optional: bool, consent: String, metadata_publish: String,
});
doc_object!(OAuth2ClaimDoc as OAuth2Claim {
    id: String, name: String, status: String, claim_type: String, value_type: String,
    value: String, always_include_in_token: bool, system: bool,
});
doc_object!(AuthorizationServerPolicyDoc as AuthorizationServerPolicy {
    id: String, r#type: String, status: String, name: String, description: String,
    priority: i64, system: bool, created: String, last_updated: String,
});
doc_object!(AuthorizationServerPolicyRuleDoc as AuthorizationServerPolicyRule {
    id: String, r#type: String, status: String, name: String, priority: i64, system: bool,
    created: String, last_updated: String,
});

#[derive(Serialize, ToSchema)]
#[schema(as = AuthorizationServerJsonWebKey)]
#[allow(dead_code)]
pub(crate) struct KeyDoc {
    kid: String,
    kty: String,
    alg: String,
    r#use: String,
    #[schema(pattern = "^(ACTIVE|NEXT|EXPIRED)$")]
    status: String,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct KeyRotateBody {
    #[schema(example = "sig")]
    r#use: Option<String>,
}

/// A create or replace body: Okta's fields, as the handlers document them.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct AuthzBody {
    #[schema(example = "Payments API")]
    name: String,
    #[schema(value_type = Object)]
    #[serde(flatten)]
    rest: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct TokenPreviewBody {
    #[schema(example = "0oa1b2c3d4e5f6g7h8i9")]
    client_id: String,
    user_id: Option<String>,
    #[schema(example = "authorization_code")]
    grant_type: String,
    #[schema(example = json!(["openid", "profile"]))]
    scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct TokenPreviewDoc {
    #[schema(value_type = Option<Object>)]
    policy: Value,
    #[schema(value_type = Option<Object>)]
    rule: Value,
    #[schema(value_type = Option<Object>)]
    error: Value,
    scopes: Vec<String>,
    #[schema(value_type = Option<Object>)]
    id_token: Value,
    #[schema(value_type = Option<Object>)]
    access_token: Value,
}

// ---------------------------------------------------------------------------------------------
// Servers

#[utoipa::path(get, path = "/api/v1/authorizationServers", tag = "AuthorizationServers",
    summary = "List custom authorization servers",
    params(("q" = Option<String>, Query, description = "Name prefix"), super::openapi::PageParams),
    responses((status = 200, description = "Servers", body = Vec<AuthorizationServerDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ApiError> {
    let limit = query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let (servers, next) =
        auth_servers::list_custom(&state.provider, query.get("q"), query.get("after"), limit)
            .await?;
    let mut body = Vec::with_capacity(servers.len());
    for s in &servers {
        let keys = auth_servers::keys(&state.provider, &s.id).await?;
        body.push(server_json(&state.provider.domains, &origin, s, &keys));
    }
    let links = pagination_links(
        &origin,
        "/api/v1/authorizationServers",
        &query,
        next.as_deref(),
    );
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(post, path = "/api/v1/authorizationServers", tag = "AuthorizationServers",
    summary = "Create a custom authorization server", request_body = AuthzBody,
    responses((status = 201, description = "The new server", body = AuthorizationServerDoc), super::openapi::ApiErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let server = auth_servers::create(&state.provider, server_spec(&body)?).await?;
    let keys = auth_servers::keys(&state.provider, &server.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(server_json(
            &state.provider.domains,
            &origin,
            &server,
            &keys,
        )),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Get a custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "The server", body = AuthorizationServerDoc), super::openapi::ApiErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let server = auth_servers::find_custom(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(server_json(
        &state.provider.domains,
        &origin,
        &server,
        &keys,
    )))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Replace a custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 200, description = "The server", body = AuthorizationServerDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    auth_servers::find_custom(&state.provider, &id).await?;
    let server = auth_servers::replace(&state.provider, &id, server_spec(&body)?).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(server_json(
        &state.provider.domains,
        &origin,
        &server,
        &keys,
    )))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}", tag = "AuthorizationServers",
    summary = "Delete a deactivated custom authorization server", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    auth_servers::delete(&state.provider, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate a custom authorization server",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::openapi::ApiErrors))]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/lifecycle/{op}"),
    )?;
    auth_servers::set_status(&state.provider, &id, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/credentials/keys", tag = "AuthorizationServers",
    summary = "List the server's signing keys (retired keys stay published)", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Keys, newest first", body = Vec<KeyDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    auth_servers::find_custom(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(
        keys.iter().map(|k| key_json(&origin, &id, k)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/credentials/lifecycle/keyRotate", tag = "AuthorizationServers",
    summary = "Rotate the signing key", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = KeyRotateBody,
    responses((status = 200, description = "Keys after the rotation", body = Vec<KeyDoc>), super::openapi::ApiErrors))]
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    if !body.is_empty() {
        let body = JsonBody::from_bytes(&body)?;
        if let Some(use_) = body.str_opt("use")?
            && use_ != "sig"
        {
            return Err(ApiError::validation("use", "must be sig"));
        }
    }
    auth_servers::find_custom(&state.provider, &id).await?;
    auth_servers::rotate_key(&state.provider, &id).await?;
    let keys = auth_servers::keys(&state.provider, &id).await?;
    Ok(Json(
        keys.iter().map(|k| key_json(&origin, &id, k)).collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Scopes

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/scopes", tag = "AuthorizationServers",
    summary = "List scopes", params(("authServerId" = String, Path, description = "An authorization server id"), ("q" = Option<String>, Query, description = "Name prefix")),
    responses((status = 200, description = "Scopes", body = Vec<OAuth2ScopeDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_scopes(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let q = query.get("q").map(str::to_lowercase);
    let scopes: Vec<OAuthScope> = config::list(&state.provider, &id).await?;
    Ok(Json(
        scopes
            .iter()
            .filter(|s| {
                q.as_ref()
                    .is_none_or(|q| s.name.to_lowercase().starts_with(q))
            })
            .map(|s| scope_json(&origin, &id, s))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/scopes", tag = "AuthorizationServers",
    summary = "Create a scope", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The scope", body = OAuth2ScopeDoc), super::openapi::ApiErrors))]
pub(crate) async fn create_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let scope = config::create_scope(&state.provider, &id, scope_spec(&body)?).await?;
    Ok((StatusCode::CREATED, Json(scope_json(&origin, &id, &scope))).into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Get a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")),
    responses((status = 200, description = "The scope", body = OAuth2ScopeDoc), super::openapi::ApiErrors))]
pub(crate) async fn get_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let scope: OAuthScope = config::find(&state.provider, &id, &item).await?;
    Ok(Json(scope_json(&origin, &id, &scope)))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Replace a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")), request_body = AuthzBody,
    responses((status = 200, description = "The scope", body = OAuth2ScopeDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    config::find::<OAuthScope>(&state.provider, &id, &item).await?;
    let scope = config::replace_scope(&state.provider, &id, &item, scope_spec(&body)?).await?;
    Ok(Json(scope_json(&origin, &id, &scope)))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/scopes/{scopeId}", tag = "AuthorizationServers",
    summary = "Delete a scope", params(("authServerId" = String, Path, description = "An authorization server id"), ("scopeId" = String, Path, description = "A scope id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete_scope(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<OAuthScope>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Claims

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/claims", tag = "AuthorizationServers",
    summary = "List claims", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Claims", body = Vec<OAuth2ClaimDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_claims(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let claims: Vec<OAuthClaim> = config::list(&state.provider, &id).await?;
    Ok(Json(
        claims.iter().map(|c| claim_json(&origin, &id, c)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/claims", tag = "AuthorizationServers",
    summary = "Create a claim", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The claim", body = OAuth2ClaimDoc), super::openapi::ApiErrors))]
pub(crate) async fn create_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let spec = claim_spec(&body)?;
    let claim = config::create_claim(&state.provider, &id, spec).await?;
    Ok((StatusCode::CREATED, Json(claim_json(&origin, &id, &claim))).into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Get a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")),
    responses((status = 200, description = "The claim", body = OAuth2ClaimDoc), super::openapi::ApiErrors))]
pub(crate) async fn get_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let claim: OAuthClaim = config::find(&state.provider, &id, &item).await?;
    Ok(Json(claim_json(&origin, &id, &claim)))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Replace a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")), request_body = AuthzBody,
    responses((status = 200, description = "The claim", body = OAuth2ClaimDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    config::find::<OAuthClaim>(&state.provider, &id, &item).await?;
    let claim = config::replace_claim(&state.provider, &id, &item, claim_spec(&body)?).await?;
    Ok(Json(claim_json(&origin, &id, &claim)))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/claims/{claimId}", tag = "AuthorizationServers",
    summary = "Delete a claim", params(("authServerId" = String, Path, description = "An authorization server id"), ("claimId" = String, Path, description = "A claim id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete_claim(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<OAuthClaim>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Policies

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies", tag = "AuthorizationServers",
    summary = "List access policies, by priority", params(("authServerId" = String, Path, description = "An authorization server id")),
    responses((status = 200, description = "Policies", body = Vec<AuthorizationServerPolicyDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_policies(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let policies: Vec<AccessPolicy> = config::list(&state.provider, &id).await?;
    Ok(Json(
        policies
            .iter()
            .map(|p| policy_json(&origin, &id, p))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies", tag = "AuthorizationServers",
    summary = "Create an access policy", params(("authServerId" = String, Path, description = "An authorization server id")), request_body = AuthzBody,
    responses((status = 201, description = "The policy", body = AuthorizationServerPolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn create_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let spec = policy_spec(&body)?;
    let policy = config::create_policy(&state.provider, &id, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(policy_json(&origin, &id, &policy)),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Get an access policy", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "The policy", body = AuthorizationServerPolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let policy: AccessPolicy = config::find(&state.provider, &id, &item).await?;
    Ok(Json(policy_json(&origin, &id, &policy)))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Replace an access policy", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")), request_body = AuthzBody,
    responses((status = 200, description = "The policy", body = AuthorizationServerPolicyDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, item)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    config::find::<AccessPolicy>(&state.provider, &id, &item).await?;
    let policy = config::replace_policy(&state.provider, &id, &item, policy_spec(&body)?).await?;
    Ok(Json(policy_json(&origin, &id, &policy)))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}", tag = "AuthorizationServers",
    summary = "Delete an access policy and its rules", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete_policy(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete::<AccessPolicy>(&state.provider, &id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate an access policy",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::openapi::ApiErrors))]
pub(crate) async fn policy_lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, item, op)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/policies/{item}/lifecycle/{op}"),
    )?;
    config::set_policy_status(&state.provider, &id, &item, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Rules

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules", tag = "AuthorizationServers",
    summary = "List a policy's rules, by priority", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")),
    responses((status = 200, description = "Rules", body = Vec<AuthorizationServerPolicyRuleDoc>), super::openapi::ApiErrors))]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rules = config::list_rules(&state.provider, &id, &policy).await?;
    Ok(Json(
        rules.iter().map(|r| rule_json(&origin, &id, r)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules", tag = "AuthorizationServers",
    summary = "Create a policy rule", params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id")), request_body = AuthzBody,
    responses((status = 201, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy)): ApiPath<(String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    config::find::<AccessPolicy>(&state.provider, &id, &policy).await?;
    let spec = rule_spec(&body)?;
    let rule = config::create_rule(&state.provider, &id, &policy, spec).await?;
    Ok((StatusCode::CREATED, Json(rule_json(&origin, &id, &rule))).into_response())
}

#[utoipa::path(get, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Get a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 200, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn get_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rule = config::find_rule(&state.provider, &id, &policy, &item).await?;
    Ok(Json(rule_json(&origin, &id, &rule)))
}

#[utoipa::path(put, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Replace a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    request_body = AuthzBody,
    responses((status = 200, description = "The rule", body = AuthorizationServerPolicyRuleDoc), super::openapi::ApiErrors))]
pub(crate) async fn replace_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    config::find_rule(&state.provider, &id, &policy, &item).await?;
    let rule =
        config::replace_rule(&state.provider, &id, &policy, &item, rule_spec(&body)?).await?;
    Ok(Json(rule_json(&origin, &id, &rule)))
}

#[utoipa::path(delete, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}", tag = "AuthorizationServers",
    summary = "Delete a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id")),
    responses((status = 204, description = "Deleted"), super::openapi::ApiErrors))]
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, policy, item)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    config::delete_rule(&state.provider, &id, &policy, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/policies/{policyId}/rules/{ruleId}/lifecycle/{op}", tag = "AuthorizationServers",
    summary = "Activate or deactivate a policy rule",
    params(("authServerId" = String, Path, description = "An authorization server id"), ("policyId" = String, Path, description = "A policy id"), ("ruleId" = String, Path, description = "A rule id"),
        ("op" = String, Path, description = "`activate` or `deactivate`")),
    responses((status = 204, description = "Done"), super::openapi::ApiErrors))]
pub(crate) async fn rule_lifecycle(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((id, policy, item, op)): ApiPath<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let status = status_from_op(
        &op,
        &format!("/api/v1/authorizationServers/{id}/policies/{policy}/rules/{item}/lifecycle/{op}"),
    )?;
    config::set_rule_status(&state.provider, &id, &policy, &item, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Token preview (a Gatehouse extension)

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/tokenPreview", tag = "AuthorizationServers",
    summary = "Preview the tokens a request would get (Gatehouse extension)",
    description = "The claims of the ID and access tokens that `clientId` would get for `userId`, `grantType` and \
                   `scopes`, and the access policy and rule that decide it; or the OAuth error the request would \
                   get and why. Nothing is signed or stored.",
    params(("authServerId" = String, Path, description = "An authorization server id")),
    request_body = TokenPreviewBody,
    responses((status = 200, description = "The preview", body = TokenPreviewDoc), super::openapi::ApiErrors))]
pub(crate) async fn token_preview(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    use gatehouse_core::services::token_preview::{PreviewRequest, preview};
    let req = PreviewRequest {
        client_id: required(&body, "clientId")?,
        user_id: body.str_opt("userId")?,
        grant_type: required(&body, "grantType")?,
        scopes: body.string_list("scopes")?,
    };
    let p = preview(&state.provider, &origin, &id, req).await?;
    Ok(Json(json!({
        "policy": p.policy.as_ref().map(|x| json!({"id": x.id, "name": x.name})),
        "rule": p.rule.as_ref().map(|x| json!({"id": x.id, "name": x.name})),
        "error": p.error.as_ref().map(|(error, description, why)| json!({
            "error": error, "error_description": description, "reason": why,
        })),
        "scopes": p.scopes,
        "idToken": p.id_token,
        "accessToken": p.access_token,
    })))
}
