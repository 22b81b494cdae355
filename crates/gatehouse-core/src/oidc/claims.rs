//! Which user claims each scope releases, shared by the ID token and userinfo.

use serde_json::{Map, Value, json};

use crate::domain::{Group, User};
use crate::oauth2::scope;

/// Claims in a "thin" ID token issued with an access token (what Okta puts there).
pub fn id_token_profile_claims(user: &User, scopes: &[String], out: &mut Map<String, Value>) {
    if scope::has(scopes, "profile") {
        out.insert("name".into(), json!(user.full_name()));
        out.insert("preferred_username".into(), json!(user.login));
    }
    if scope::has(scopes, "email") {
        out.insert("email".into(), json!(user.email));
    }
}

/// The userinfo claims for the granted scopes.
pub fn userinfo_claims(user: &User, groups: &[Group], scopes: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    if scope::has(scopes, "profile") {
        out.insert("name".into(), json!(user.full_name()));
        out.insert("preferred_username".into(), json!(user.login));
        out.insert("given_name".into(), json!(user.first_name));
        out.insert("family_name".into(), json!(user.last_name));
        out.insert(
            "nickname".into(),
            json!(
                user.display_name
                    .clone()
                    .unwrap_or_else(|| user.first_name.clone())
            ),
        );
        out.insert("locale".into(), json!("en_US"));
        out.insert("zoneinfo".into(), json!("America/Los_Angeles"));
        out.insert("updated_at".into(), json!(user.last_updated));
    }
    if scope::has(scopes, "email") {
        out.insert("email".into(), json!(user.email));
        out.insert("email_verified".into(), json!(true));
    }
    if scope::has(scopes, "groups") {
        out.insert(
            "groups".into(),
            json!(groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>()),
        );
    }
    out
}
