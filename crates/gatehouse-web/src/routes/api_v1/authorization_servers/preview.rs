//! Token preview (a Gatehouse extension).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::super::auth::Caller;
use super::super::{ApiError, ApiOrigin, ApiPath, JsonBody};
use super::*;
use crate::AppState;

#[utoipa::path(post, path = "/api/v1/authorizationServers/{authServerId}/tokenPreview", tag = "AuthorizationServers",
    summary = "Preview the tokens a request would get (Gatehouse extension)",
    description = "The claims of the ID and access tokens that `clientId` would get for `userId`, `grantType` and \
                   `scopes`, and the access policy and rule that decide it; or the OAuth error the request would \
                   get and why. Nothing is signed or stored.",
    params(("authServerId" = String, Path, description = "An authorization server id")),
    request_body = TokenPreviewBody,
    responses((status = 200, description = "The preview", body = TokenPreviewDoc), super::super::openapi::ApiErrors))]
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
