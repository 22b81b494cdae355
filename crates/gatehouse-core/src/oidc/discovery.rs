//! The discovery documents, built from the same context as the tokens' `iss`.

use std::time::Instant;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::cache::{DOCUMENT_CACHE_MAX, DocumentKey, SERVER_CACHE_TTL};
pub use crate::cache::{Document, DocumentCache};
use crate::domain::SigningAlg;
use crate::oauth2::OAuthError;
use crate::oauth2::client_assertion::SIGNING_ALG_NAMES;
use crate::oauth2::grants::GrantType;
use crate::oauth2::scope::SYSTEM_SCOPES;
use crate::provider::{Provider, ServerContext};

const AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

/// Okta's response types: the code flow, implicit and hybrid; a bare `token` on custom servers
/// only (the org server's access tokens are for Okta's own APIs).
fn response_types(server: &ServerContext) -> Vec<&'static str> {
    let mut types = vec![
        "code",
        "id_token",
        "code id_token",
        "code token",
        "id_token token",
        "code id_token token",
    ];
    if !server.is_org() {
        types.push("token");
    }
    types
}

/// `/.well-known/openid-configuration` (org) and `/oauth2/{id}/.well-known/openid-configuration`.
/// `id_token_algs`: the algorithms of the server's published keys, the active key's first.
pub fn openid_configuration(server: &ServerContext, id_token_algs: &[SigningAlg]) -> Value {
    let algs: Vec<&str> = id_token_algs.iter().map(|a| a.as_str()).collect();
    let doc = json!({
        "issuer": server.issuer,
        "authorization_endpoint": server.endpoint("authorize"),
        "token_endpoint": server.endpoint("token"),
        "userinfo_endpoint": server.endpoint("userinfo"),
        "registration_endpoint": format!("{}/oauth2/v1/clients", server.origin),
        "jwks_uri": server.endpoint("keys"),
        "response_types_supported": response_types(server),
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "device_authorization_endpoint": server.endpoint("device/authorize"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": SYSTEM_SCOPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "claims_supported": [
            "iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce", "name",
            "nickname", "preferred_username", "given_name", "family_name", "email", "email_verified",
            "zoneinfo", "locale", "updated_at", "at_hash", "c_hash", "groups", "sid", "acr"
        ],
        "acr_values_supported": crate::oauth2::authorize::acr::SUPPORTED,
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": server.endpoint("introspect"),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "revocation_endpoint": server.endpoint("revoke"),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "end_session_endpoint": server.endpoint("logout"),
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": true,
        "request_object_signing_alg_values_supported": crate::oauth2::request_object::ALG_NAMES,
        "claims_parameter_supported": false,
        // True only when every response (errors too) carries `iss`, which is a server setting.
        "authorization_response_iss_parameter_supported": server.server.authorization_response_iss,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    doc
}

/// `/oauth2/{id}/.well-known/oauth-authorization-server` (RFC 8414), custom servers only.
pub fn authorization_server_metadata(server: &ServerContext) -> Value {
    let mut doc = openid_configuration(server, &[]);
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("userinfo_endpoint");
        obj.remove("id_token_signing_alg_values_supported");
        obj.insert(
            "claims_supported".into(),
            json!([
                "ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"
            ]),
        );
    }
    doc
}

/// The serialized `document` of the server `auth_server_id` (`None`: the org server) as seen from
/// `origin`. Fails as [`Provider::server_context`] does for an unknown server.
pub async fn document(
    provider: &Provider,
    document: Document,
    origin: &str,
    auth_server_id: Option<&str>,
) -> Result<Bytes, OAuthError> {
    let key: DocumentKey = (
        document,
        auth_server_id.map(str::to_owned),
        origin.to_owned(),
    );
    let cache = &provider.discovery_cache.0;
    if let Some(bytes) = cache.read().ok().and_then(|m| {
        m.get(&key)
            .filter(|(at, _)| at.elapsed() < SERVER_CACHE_TTL)
            .map(|(_, b)| b.clone())
    }) {
        return Ok(bytes);
    }
    let ctx = provider.server_context(origin, auth_server_id).await?;
    let mut doc = match document {
        Document::OpenidConfiguration => {
            let algs = provider.keys.algorithms(&ctx.server.id).await?;
            openid_configuration(&ctx, &algs)
        }
        Document::AuthorizationServerMetadata => authorization_server_metadata(&ctx),
    };
    if !ctx.is_org() {
        // A custom server lists its scopes published to all clients (`metadataPublish`).
        let config = crate::authz::server_config(provider, &ctx.server.id).await?;
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("scopes_supported".into(), json!(config.published_scopes()));
        }
    }
    let bytes = Bytes::from(doc.to_string());
    if let Ok(mut m) = cache.write() {
        if m.len() >= DOCUMENT_CACHE_MAX {
            m.clear();
        }
        m.insert(key, (Instant::now(), bytes.clone()));
    }
    Ok(bytes)
}
