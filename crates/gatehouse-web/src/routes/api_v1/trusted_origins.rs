//! `/api/v1/trustedOrigins`: Okta's Trusted Origins, the origins allowed to make CORS requests
//! (`CORS`) or to be redirected to (`REDIRECT`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{AppStatus, TrustedOrigin, TrustedOriginScope};
use gatehouse_core::services::api_tokens::ApiCaller;
use gatehouse_core::services::trusted_origins::{self, TrustedOriginSpec};
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, ApiOrigin, ApiPath, JsonBody, Query, okta_date, pagination_links};
use crate::AppState;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 200;

fn hints(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

pub(crate) fn trusted_origin_json(origin: &str, t: &TrustedOrigin) -> Value {
    let base = format!("{origin}/api/v1/trustedOrigins/{}", t.id);
    let scopes: Vec<Value> = t
        .scopes
        .iter()
        .map(|s| match s {
            TrustedOriginScope::IframeEmbed => json!({ "type": s.as_str(), "allowedOktaApps": [] }),
            _ => json!({ "type": s.as_str() }),
        })
        .collect();
    let lifecycle = match t.status {
        AppStatus::Active => ("deactivate", format!("{base}/lifecycle/deactivate")),
        AppStatus::Inactive => ("activate", format!("{base}/lifecycle/activate")),
    };
    json!({
        "id": t.id,
        "name": t.name,
        "origin": t.origin,
        "scopes": scopes,
        "status": t.status.as_str(),
        "created": okta_date(t.created),
        "createdBy": t.created_by,
        "lastUpdated": okta_date(t.last_updated),
        "lastUpdatedBy": t.last_updated_by,
        "_links": {
            "self": hints(base.clone(), &["GET", "PUT", "DELETE"]),
            lifecycle.0: hints(lifecycle.1, &["POST"]),
        },
    })
}

/// Who made a change (`createdBy`, `lastUpdatedBy`): the token's user, or the service app.
fn actor(caller: &ApiCaller) -> Option<String> {
    match caller {
        ApiCaller::ApiToken { user, .. } => Some(user.id.clone()),
        ApiCaller::ServiceApp { app, .. } => Some(app.client_id.clone()),
    }
}

/// `{name, origin, scopes: [{type}]}`.
fn parse_spec(body: &JsonBody) -> Result<TrustedOriginSpec, ApiError> {
    let name = body
        .str_opt("name")?
        .ok_or_else(|| ApiError::validation("name", "this field is required"))?;
    let origin = body
        .str_opt("origin")?
        .ok_or_else(|| ApiError::validation("origin", "this field is required"))?;
    let items = match &body.0.get("scopes") {
        None | Some(Value::Null) => {
            return Err(ApiError::validation("scopes", "this field is required"));
        }
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(ApiError::validation("scopes", "must be a list")),
    };
    let mut scopes = Vec::new();
    for item in &items {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("scopes", "each scope needs a `type`"))?;
        scopes.push(TrustedOriginScope::parse(kind).ok_or_else(|| {
            ApiError::validation(
                "scopes",
                format!("'{kind}' is not one of CORS, REDIRECT, IFRAME_EMBED"),
            )
        })?);
    }
    Ok(TrustedOriginSpec {
        name,
        origin,
        scopes,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/trustedOrigins",
    tag = "TrustedOrigins",
    summary = "List trusted origins",
    params(
        super::openapi::PageParams,
    ),
    responses(
        (status = 200, description = "A page of trusted origins", body = Vec<super::openapi::TrustedOriginDoc>),
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
    let (items, next) = trusted_origins::list(&state.provider, query.get("after"), limit).await?;
    let body: Vec<_> = items
        .iter()
        .map(|t| trusted_origin_json(&origin, t))
        .collect();
    let links = pagination_links(&origin, "/api/v1/trustedOrigins", &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/trustedOrigins",
    tag = "TrustedOrigins",
    summary = "Create a trusted origin",
    request_body = super::openapi::TrustedOriginBody,
    responses(
        (status = 200, description = "The new trusted origin", body = super::openapi::TrustedOriginDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiOrigin(origin): ApiOrigin,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let spec = parse_spec(&body)?;
    let created = trusted_origins::create(&state.provider, spec, actor(&caller).as_deref()).await?;
    Ok(Json(trusted_origin_json(&origin, &created)))
}

#[utoipa::path(
    get,
    path = "/api/v1/trustedOrigins/{id}",
    tag = "TrustedOrigins",
    summary = "Get a trusted origin",
    params(("id" = String, Path, description = "A trusted origin id")),
    responses(
        (status = 200, description = "The trusted origin", body = super::openapi::TrustedOriginDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let found = trusted_origins::find(&state.provider, &id).await?;
    Ok(Json(trusted_origin_json(&origin, &found)))
}

#[utoipa::path(
    put,
    path = "/api/v1/trustedOrigins/{id}",
    tag = "TrustedOrigins",
    summary = "Replace a trusted origin",
    params(("id" = String, Path, description = "A trusted origin id")),
    request_body = super::openapi::TrustedOriginBody,
    responses(
        (status = 200, description = "The trusted origin", body = super::openapi::TrustedOriginDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath(id): ApiPath<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let found = trusted_origins::find(&state.provider, &id).await?;
    let spec = parse_spec(&body)?;
    let replaced =
        trusted_origins::replace(&state.provider, found, spec, actor(&caller).as_deref()).await?;
    Ok(Json(trusted_origin_json(&origin, &replaced)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/trustedOrigins/{id}",
    tag = "TrustedOrigins",
    summary = "Delete a trusted origin",
    params(("id" = String, Path, description = "A trusted origin id")),
    responses(
        (status = 204, description = "Deleted"),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let found = trusted_origins::find(&state.provider, &id).await?;
    trusted_origins::delete(&state.provider, &found).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/trustedOrigins/{id}/lifecycle/{op}",
    tag = "TrustedOrigins",
    summary = "Activate or deactivate a trusted origin",
    params(
        ("id" = String, Path, description = "A trusted origin id"),
        ("op" = String, Path, description = "activate or deactivate"),
    ),
    responses(
        (status = 200, description = "The trusted origin", body = super::openapi::TrustedOriginDoc),
        super::openapi::ApiErrors,
    ),
)]
pub(crate) async fn lifecycle(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiOrigin(origin): ApiOrigin,
    ApiPath((id, op)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let status = match op.as_str() {
        "activate" => AppStatus::Active,
        "deactivate" => AppStatus::Inactive,
        _ => {
            return Err(ApiError::NotFound(format!(
                "/api/v1/trustedOrigins/{id}/lifecycle/{op} (POST)"
            )));
        }
    };
    let found = trusted_origins::find(&state.provider, &id).await?;
    let updated =
        trusted_origins::set_status(&state.provider, found, status, actor(&caller).as_deref())
            .await?;
    Ok(Json(trusted_origin_json(&origin, &updated)))
}
