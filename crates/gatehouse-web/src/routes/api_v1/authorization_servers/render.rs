//! Okta's JSON for servers, keys, scopes, claims, policies and rules.

use gatehouse_core::domain::{
    AccessPolicy, AppStatus, AuthServer, KeyStatus, OAuthClaim, OAuthScope, PolicyRule, SigningKey,
};
use gatehouse_core::provider::Domains;
use serde_json::{Value, json};

use super::super::okta_date;
use super::*;

pub(super) fn server_json(
    domains: &Domains,
    origin: &str,
    s: &AuthServer,
    keys: &[SigningKey],
) -> Value {
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
        "authorizationResponseIss": s.authorization_response_iss,
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

pub(super) fn key_json(origin: &str, server_id: &str, k: &SigningKey) -> Value {
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

pub(super) fn scope_json(origin: &str, server_id: &str, s: &OAuthScope) -> Value {
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

pub(super) fn claim_json(origin: &str, server_id: &str, c: &OAuthClaim) -> Value {
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

pub(super) fn policy_json(origin: &str, server_id: &str, p: &AccessPolicy) -> Value {
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

pub(super) fn rule_json(origin: &str, server_id: &str, r: &PolicyRule) -> Value {
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
