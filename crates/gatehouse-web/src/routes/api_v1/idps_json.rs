//! Okta's Identity Provider JSON (`/api/v1/idps`) to and from [`IdpSpec`] / [`Idp`]. What Okta
//! has no field for (email-domain routing, the claim mapping, whether a password may be set)
//! is under `gatehouse`, and so is the token endpoint's method (`gatehouse.tokenEndpointAuthMethod`:
//! `client_secret_post`, `client_secret_basic`, `client_secret_jwt` or `private_key_jwt`);
//! Okta's `protocol.credentials.client.token_endpoint_auth_method` is read and shown for the JWT
//! methods.
//! The client secret is accepted, never returned; with `private_key_jwt`, the key Gatehouse
//! generated is shown as `protocol.credentials.signing` (its public half only).

use gatehouse_core::domain::{
    AccountLinkAction, ClaimMapping, GroupsAction, Idp, IdpSettings, IdpStatus, IdpType,
    IssuerMode, MatchType, ProvisioningAction, UpstreamAuthMethod,
};
use gatehouse_core::services::idps::admin::IdpSpec;
use gatehouse_core::services::idps::client_key;
use gatehouse_core::services::idps::start::CALLBACK_PATH;
use serde_json::{Value, json};

use super::{ApiError, okta_date};

fn at<'a>(body: &'a Value, pointer: &str) -> Option<&'a Value> {
    body.pointer(pointer).filter(|v| !v.is_null())
}

fn field(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

fn text(body: &Value, pointer: &str) -> Result<Option<String>, ApiError> {
    match at(body, pointer) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(ApiError::validation(field(pointer), "must be a string")),
    }
}

fn words(body: &Value, pointer: &str) -> Result<Vec<String>, ApiError> {
    match at(body, pointer) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::validation(field(pointer), "must be a list of strings")
                })
            })
            .collect(),
        Some(_) => Err(ApiError::validation(field(pointer), "must be a list")),
    }
}

fn choice<T>(
    body: &Value,
    pointer: &str,
    parse: fn(&str) -> Option<T>,
    default: T,
) -> Result<T, ApiError> {
    match text(body, pointer)? {
        None => Ok(default),
        Some(s) => parse(&s).ok_or_else(|| {
            ApiError::validation(field(pointer), format!("'{s}' is not a valid value"))
        }),
    }
}

/// The body of a POST or PUT.
pub(crate) fn parse_spec(body: &Value) -> Result<IdpSpec, ApiError> {
    let name = text(body, "/name")?
        .ok_or_else(|| ApiError::validation("name", "this field is required"))?;
    let kind = choice(body, "/type", IdpType::parse, IdpType::Oidc)?;
    let url = |p: &str| Ok::<_, ApiError>(text(body, p)?.unwrap_or_default());
    let mapping_default = ClaimMapping::default();
    let skew_ms = match at(body, "/policy/maxClockSkew") {
        None => 120_000,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| ApiError::validation("policy.maxClockSkew", "must be a number"))?,
    };
    let settings = IdpSettings {
        issuer: url("/protocol/issuer/url")?,
        authorization_url: url("/protocol/endpoints/authorization/url")?,
        token_url: url("/protocol/endpoints/token/url")?,
        userinfo_url: text(body, "/protocol/endpoints/userInfo/url")?,
        jwks_url: url("/protocol/endpoints/jwks/url")?,
        scopes: words(body, "/protocol/scopes")?,
        client_id: url("/protocol/credentials/client/client_id")?,
        // Okta's field holds the JWT methods; the secret-in-the-request ones are Gatehouse's.
        token_auth_method: match text(body, "/gatehouse/tokenEndpointAuthMethod")? {
            Some(_) => choice(
                body,
                "/gatehouse/tokenEndpointAuthMethod",
                UpstreamAuthMethod::parse,
                UpstreamAuthMethod::ClientSecretPost,
            )?,
            None => choice(
                body,
                "/protocol/credentials/client/token_endpoint_auth_method",
                UpstreamAuthMethod::parse,
                UpstreamAuthMethod::ClientSecretPost,
            )?,
        },
        issuer_mode: choice(body, "/issuerMode", IssuerMode::parse, IssuerMode::OrgUrl)?,
        provisioning: choice(
            body,
            "/policy/provisioning/action",
            ProvisioningAction::parse,
            ProvisioningAction::Auto,
        )?,
        groups_action: choice(
            body,
            "/policy/provisioning/groups/action",
            GroupsAction::parse,
            GroupsAction::None,
        )?,
        groups_claim: text(body, "/policy/provisioning/groups/sourceAttributeName")?,
        groups_filter: words(body, "/policy/provisioning/groups/filter")?,
        account_link: choice(
            body,
            "/policy/accountLink/action",
            AccountLinkAction::parse,
            AccountLinkAction::Auto,
        )?,
        account_link_groups: words(body, "/policy/accountLink/filter/groups/include")?,
        user_name_template: text(body, "/policy/subject/userNameTemplate/template")?
            .unwrap_or_else(|| "idpuser.email".into()),
        match_type: choice(
            body,
            "/policy/subject/matchType",
            MatchType::parse,
            MatchType::Username,
        )?,
        mapping: ClaimMapping {
            email: text(body, "/gatehouse/mapping/email")?.unwrap_or(mapping_default.email),
            first_name: text(body, "/gatehouse/mapping/firstName")?
                .unwrap_or(mapping_default.first_name),
            last_name: text(body, "/gatehouse/mapping/lastName")?
                .unwrap_or(mapping_default.last_name),
        },
        // Generated by Gatehouse (and kept by a replacement), never taken from the body.
        client_key: None,
        routing_domains: words(body, "/gatehouse/routing/domains")?,
        allow_password: at(body, "/gatehouse/allowPassword")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_clock_skew: skew_ms / 1000,
    };
    let status = choice(body, "/status", IdpStatus::parse, IdpStatus::Active)?;
    Ok(IdpSpec {
        name,
        kind,
        status,
        settings,
        client_secret: text(body, "/protocol/credentials/client/client_secret")?,
    })
}

fn endpoint(url: &str, binding: &str) -> Value {
    json!({ "url": url, "binding": binding })
}

fn hints(href: String, methods: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": methods } })
}

/// `protocol.credentials`: the client id, and with `private_key_jwt` Okta's method and key
/// reference (`signing.kid`), plus the public JWK and its JWKS URI to register upstream.
fn credentials(origin: &str, idp: &Idp) -> Value {
    let s = &idp.settings;
    let mut out = json!({ "client": { "client_id": s.client_id } });
    // Okta's field names the JWT methods; the secret-in-the-request ones leave it out.
    if matches!(
        s.token_auth_method,
        UpstreamAuthMethod::PrivateKeyJwt | UpstreamAuthMethod::ClientSecretJwt
    ) {
        out["client"]["token_endpoint_auth_method"] = json!(s.token_auth_method.as_str());
    }
    if let Some(key) = &s.client_key {
        let jwk: Value = serde_json::from_str(&key.public_jwk).unwrap_or(Value::Null);
        out["signing"] = json!({
            "kid": key.kid,
            "algorithm": key.alg,
            "jwk": jwk,
            "jwks_uri": format!("{origin}{}", client_key::jwks_path(&idp.id)),
        });
    }
    out
}

pub(crate) fn idp_json(origin: &str, idp: &Idp) -> Value {
    let s = &idp.settings;
    let base = format!("{origin}/api/v1/idps/{}", idp.id);
    let lifecycle = match idp.status {
        IdpStatus::Active => ("deactivate", format!("{base}/lifecycle/deactivate")),
        IdpStatus::Inactive => ("activate", format!("{base}/lifecycle/activate")),
    };
    let mut endpoints = json!({
        "authorization": endpoint(&s.authorization_url, "HTTP-REDIRECT"),
        "token": endpoint(&s.token_url, "HTTP-POST"),
        "jwks": endpoint(&s.jwks_url, "HTTP-REDIRECT"),
    });
    if let Some(u) = &s.userinfo_url {
        endpoints["userInfo"] = endpoint(u, "HTTP-REDIRECT");
    }
    let groups = match s.groups_action {
        GroupsAction::None => json!({ "action": "NONE" }),
        action => json!({
            "action": action.as_str(),
            "sourceAttributeName": s.groups_claim,
            "filter": s.groups_filter,
        }),
    };
    let link_filter = if s.account_link_groups.is_empty() {
        Value::Null
    } else {
        json!({ "groups": { "include": s.account_link_groups } })
    };
    json!({
        "id": idp.id,
        "type": idp.kind.as_str(),
        "issuerMode": s.issuer_mode.as_str(),
        "name": idp.name,
        "status": idp.status.as_str(),
        "created": okta_date(idp.created),
        "lastUpdated": okta_date(idp.last_updated),
        "protocol": {
            "type": "OIDC",
            "endpoints": endpoints,
            "scopes": s.scopes,
            "issuer": { "url": s.issuer },
            "credentials": credentials(origin, idp),
        },
        "policy": {
            "provisioning": {
                "action": s.provisioning.as_str(),
                "profileMaster": true,
                "groups": groups,
                "conditions": {
                    "deprovisioned": { "action": "NONE" },
                    "suspended": { "action": "NONE" }
                }
            },
            "accountLink": { "filter": link_filter, "action": s.account_link.as_str() },
            "subject": {
                "userNameTemplate": { "template": s.user_name_template },
                "filter": null,
                "matchType": s.match_type.as_str(),
                "matchAttribute": null
            },
            "maxClockSkew": s.max_clock_skew * 1000
        },
        "gatehouse": {
            "routing": { "domains": s.routing_domains },
            "mapping": {
                "email": s.mapping.email,
                "firstName": s.mapping.first_name,
                "lastName": s.mapping.last_name,
            },
            "allowPassword": s.allow_password,
            "tokenEndpointAuthMethod": s.token_auth_method.as_str(),
        },
        "_links": {
            "self": hints(base.clone(), &["GET", "PUT", "DELETE"]),
            lifecycle.0: hints(lifecycle.1, &["POST"]),
            "authorize": {
                "href": format!("{origin}/oauth2/v1/authorize?idp={}&client_id={{clientId}}&response_type={{responseType}}&response_mode={{responseMode}}&scope={{scopes}}&redirect_uri={{redirectUri}}&state={{state}}&nonce={{nonce}}", idp.id),
                "templated": true,
                "hints": { "allow": ["GET"] }
            },
            "clientRedirectUri": hints(format!("{origin}{CALLBACK_PATH}"), &["POST"]),
        }
    })
}
