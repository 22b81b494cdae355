//! OpenAPI schemas: what the handlers take and return (see `openapi.rs`).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

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
    issuer_mode: String, authorization_response_iss: bool, status: String, created: String,
    last_updated: String,
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
