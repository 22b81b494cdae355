//! The discovery documents, built from the same context as the tokens' `iss`.

use serde_json::{Value, json};

use crate::oauth2::client_assertion::SIGNING_ALG_NAMES;
use crate::oauth2::scope::SYSTEM_SCOPES;
use crate::provider::ServerContext;

const AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

/// `/.well-known/openid-configuration` (org) and `/oauth2/{id}/.well-known/openid-configuration`.
pub fn openid_configuration(server: &ServerContext) -> Value {
    let doc = json!({
        "issuer": server.issuer,
        "authorization_endpoint": server.endpoint("authorize"),
        "token_endpoint": server.endpoint("token"),
        "userinfo_endpoint": server.endpoint("userinfo"),
        "registration_endpoint": format!("{}/oauth2/v1/clients", server.origin),
        "jwks_uri": server.endpoint("keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SYSTEM_SCOPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "claims_supported": [
            "iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce", "name",
            "nickname", "preferred_username", "given_name", "family_name", "email", "email_verified",
            "zoneinfo", "locale", "updated_at", "at_hash", "groups"
        ],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": server.endpoint("introspect"),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "revocation_endpoint": server.endpoint("revoke"),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALG_NAMES,
        "end_session_endpoint": server.endpoint("logout"),
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
    });
    doc
}

/// `/oauth2/{id}/.well-known/oauth-authorization-server` (RFC 8414), custom servers only.
pub fn authorization_server_metadata(server: &ServerContext) -> Value {
    let mut doc = openid_configuration(server);
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
