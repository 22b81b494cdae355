//! The OpenAPI part of `/api/v1/idps` (`idps.rs`): its operations and schemas, merged into the
//! document `openapi.rs` serves.

use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::idps;

#[derive(OpenApi)]
#[openapi(
    paths(
        idps::list,
        idps::create,
        idps::get,
        idps::replace,
        idps::delete,
        idps::lifecycle,
    ),
    components(schemas(IdpDoc, IdpBody))
)]
pub(crate) struct IdpsDoc;

/// An upstream OpenID Connect identity provider (Okta's `IdentityProvider`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdentityProvider)]
#[allow(dead_code)]
pub(crate) struct IdpDoc {
    id: String,
    #[schema(pattern = "^(OIDC|GOOGLE|MICROSOFT)$")]
    r#type: String,
    #[schema(pattern = "^(ORG_URL|CUSTOM_URL|DYNAMIC)$")]
    issuer_mode: String,
    name: String,
    #[schema(pattern = "^(ACTIVE|INACTIVE)$")]
    status: String,
    created: String,
    last_updated: String,
    /// `{type: OIDC, endpoints: {authorization, token, userInfo, jwks}, scopes, issuer,
    /// credentials: {client: {client_id, token_endpoint_auth_method}}}`.
    #[schema(value_type = Object)]
    protocol: Value,
    /// `{provisioning, accountLink, subject, maxClockSkew}`.
    #[schema(value_type = Object)]
    policy: Value,
    /// `{routing: {domains}, mapping: {email, firstName, lastName}, allowPassword}`.
    #[schema(value_type = Object)]
    gatehouse: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// `POST /api/v1/idps` and `PUT /api/v1/idps/{id}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct IdpBody {
    #[schema(pattern = "^(OIDC|GOOGLE|MICROSOFT)$")]
    r#type: String,
    #[schema(min_length = 1, max_length = 100, example = "Corporate SSO")]
    name: String,
    #[schema(value_type = Object, example = json!({
        "type": "OIDC",
        "endpoints": {
            "authorization": {"url": "https://idp.example.com/authorize", "binding": "HTTP-REDIRECT"},
            "token": {"url": "https://idp.example.com/token", "binding": "HTTP-POST"},
            "userInfo": {"url": "https://idp.example.com/userinfo", "binding": "HTTP-REDIRECT"},
            "jwks": {"url": "https://idp.example.com/keys", "binding": "HTTP-REDIRECT"}
        },
        "scopes": ["openid", "profile", "email"],
        "issuer": {"url": "https://idp.example.com"},
        "credentials": {"client": {"client_id": "gatehouse", "client_secret": "s3cret"}}
    }))]
    protocol: Value,
    #[schema(value_type = Option<Object>)]
    policy: Value,
    #[schema(value_type = Option<Object>)]
    gatehouse: Value,
}
