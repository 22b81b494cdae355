//! Okta's JSON for an app, its assignments and its client secrets.

use gatehouse_core::domain::{App, AppGroupAssignment, AppStatus, User};
use gatehouse_core::services::apps::{AssignmentScope, ClientSecretView};
use serde_json::{Map, Value, json};

use crate::routes::api_v1::okta_date;

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
pub(super) fn app_json(origin: &str, app: &App, client_secret: Option<&str>) -> Value {
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
    insert_opt(
        &mut client,
        "backchannel_logout_uri",
        &s.backchannel_logout_uri,
    );
    client.insert(
        "backchannel_logout_session_required".into(),
        json!(s.backchannel_logout_session_required),
    );
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

pub(super) fn group_assignment_json(origin: &str, app: &App, a: &AppGroupAssignment) -> Value {
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

pub(super) fn app_user_json(origin: &str, app: &App, user: &User, scope: AssignmentScope) -> Value {
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
pub(super) fn secret_json(origin: &str, app: &App, secret: &ClientSecretView) -> Value {
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
