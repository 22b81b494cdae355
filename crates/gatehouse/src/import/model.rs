//! The source org's objects as Okta's management API returns them, read leniently: every
//! field the importer does not need is ignored, and a missing one takes its default, so real
//! Okta's responses (with their extra fields) and Gatehouse's both parse.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub status: String,
    pub profile: UserProfile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserProfile {
    pub login: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Group {
    pub id: String,
    #[serde(rename = "type")]
    pub group_type: String,
    pub profile: GroupProfile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GroupProfile {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct App {
    pub id: String,
    pub name: String,
    pub label: String,
    pub status: String,
    pub sign_on_mode: String,
    pub credentials: AppCredentials,
    pub settings: AppSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppCredentials {
    pub oauth_client: OAuthCredentials,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OAuthCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub pkce_required: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppSettings {
    pub oauth_client: OAuthSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OAuthSettings {
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub response_types: Vec<String>,
    pub grant_types: Vec<String>,
    pub application_type: Option<String>,
    pub initiate_login_uri: Option<String>,
    pub consent_method: Option<String>,
    pub issuer_mode: Option<String>,
    pub wildcard_redirect: Option<String>,
    pub idp_initiated_login: Option<IdpInitiatedLogin>,
    pub refresh_token: Option<RefreshTokenSettings>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IdpInitiatedLogin {
    pub mode: Option<String>,
    pub default_scope: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RefreshTokenSettings {
    pub rotation_type: Option<String>,
    pub leeway: Option<i64>,
}

/// An entry of `GET /api/v1/apps/{id}/groups`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GroupAssignment {
    pub id: String,
    pub priority: Option<i64>,
}

/// An entry of `GET /api/v1/apps/{id}/users` (`scope`: `USER` for a direct assignment,
/// `GROUP` for one that comes from a group).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppUser {
    pub id: String,
    pub scope: String,
}

/// An entry of `GET /api/v1/apps/{id}/grants`: an Okta API scope (`okta.users.read`, …)
/// granted to the app for the org authorization server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppGrant {
    pub id: String,
    pub status: String,
    pub issuer: String,
    pub scope_id: String,
}

/// An entry of `GET /api/v1/apps/{id}/credentials/secrets` (Okta includes `client_secret`
/// where the org lets it be read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientSecret {
    pub id: String,
    pub status: String,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthServer {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub audiences: Vec<String>,
    pub issuer_mode: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Scope {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub consent: Option<String>,
    pub default: bool,
    pub metadata_publish: Option<String>,
    pub system: bool,
    pub optional: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Claim {
    pub id: String,
    pub name: String,
    pub status: String,
    pub claim_type: String,
    pub value_type: String,
    pub value: String,
    #[serde(rename = "group_filter_type")]
    pub group_filter_type: Option<String>,
    pub always_include_in_token: bool,
    pub conditions: ClaimConditions,
    pub system: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClaimConditions {
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IncludeExclude {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub id: String,
    #[serde(rename = "type")]
    pub policy_type: String,
    pub name: String,
    pub description: Option<String>,
    pub priority: Option<i64>,
    pub status: String,
    pub system: bool,
    pub conditions: PolicyConditions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PolicyConditions {
    pub clients: IncludeExclude,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Rule {
    pub id: String,
    #[serde(rename = "type")]
    pub rule_type: String,
    pub name: String,
    pub priority: Option<i64>,
    pub status: String,
    pub system: bool,
    pub conditions: RuleConditions,
    pub actions: RuleActions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RuleConditions {
    pub people: Option<People>,
    pub grant_types: IncludeExclude,
    pub scopes: Option<IncludeExclude>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct People {
    pub users: IncludeExclude,
    pub groups: IncludeExclude,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RuleActions {
    pub token: TokenActions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TokenActions {
    pub access_token_lifetime_minutes: Option<i64>,
    pub refresh_token_lifetime_minutes: Option<i64>,
    pub refresh_token_window_minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TrustedOrigin {
    pub id: String,
    pub name: String,
    pub origin: String,
    pub status: String,
    pub scopes: Vec<TrustedOriginScope>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TrustedOriginScope {
    #[serde(rename = "type")]
    pub scope_type: String,
}

/// Parses one object, or says which kind failed and why.
pub fn parse<T: serde::de::DeserializeOwned>(kind: &str, v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{kind}: unreadable ({e})"))
}

#[cfg(test)]
mod tests {
    //! Responses in the shape of Okta's public API reference examples (written for these
    //! tests, with Okta's field names and nesting), read into the importer's types.

    use super::*;

    type TestResult = Result<(), String>;

    fn fixture(name: &str) -> Value {
        let text = match name {
            "user" => include_str!("fixtures/user.json"),
            "group" => include_str!("fixtures/group.json"),
            "app" => include_str!("fixtures/app_oidc.json"),
            "server" => include_str!("fixtures/authorization_server.json"),
            "scope" => include_str!("fixtures/scope.json"),
            "claim" => include_str!("fixtures/claim.json"),
            "policy" => include_str!("fixtures/policy.json"),
            "rule" => include_str!("fixtures/rule.json"),
            "origin" => include_str!("fixtures/trusted_origin.json"),
            _ => "null",
        };
        serde_json::from_str(text).unwrap_or(Value::Null)
    }

    #[test]
    fn user() -> TestResult {
        let u: User = parse("user", fixture("user"))?;
        assert!(u.id.starts_with("00u"));
        assert_eq!(u.status, "ACTIVE");
        assert_eq!(u.profile.login, "isaac.brock@example.com");
        assert_eq!(u.profile.first_name.as_deref(), Some("Isaac"));
        assert_eq!(u.profile.last_name.as_deref(), Some("Brock"));
        Ok(())
    }

    #[test]
    fn group() -> TestResult {
        let g: Group = parse("group", fixture("group"))?;
        assert_eq!(g.group_type, "OKTA_GROUP");
        assert_eq!(g.profile.name, "West Coast Users");
        Ok(())
    }

    #[test]
    fn oidc_app() -> TestResult {
        let a: App = parse("app", fixture("app"))?;
        assert_eq!(a.sign_on_mode, "OPENID_CONNECT");
        let creds = &a.credentials.oauth_client;
        assert_eq!(creds.client_id.as_deref(), Some("0oa1gjh63g214q0Hq0g4"));
        assert_eq!(
            creds.token_endpoint_auth_method.as_deref(),
            Some("client_secret_basic")
        );
        let s = &a.settings.oauth_client;
        assert_eq!(s.redirect_uris, ["https://example.com/oauth2/callback"]);
        assert_eq!(s.grant_types, ["authorization_code", "refresh_token"]);
        assert_eq!(s.application_type.as_deref(), Some("web"));
        assert_eq!(s.consent_method.as_deref(), Some("REQUIRED"));
        assert_eq!(
            s.refresh_token
                .as_ref()
                .and_then(|r| r.rotation_type.as_deref()),
            Some("ROTATE")
        );
        Ok(())
    }

    #[test]
    fn authorization_server_and_its_items() -> TestResult {
        let s: AuthServer = parse("server", fixture("server"))?;
        assert!(s.id.starts_with("aus"));
        assert_eq!(s.audiences, ["api://default"]);
        assert_eq!(s.issuer_mode.as_deref(), Some("ORG_URL"));
        let scope: Scope = parse("scope", fixture("scope"))?;
        assert_eq!(scope.name, "car:drive");
        assert_eq!(scope.metadata_publish.as_deref(), Some("NO_CLIENTS"));
        let claim: Claim = parse("claim", fixture("claim"))?;
        assert_eq!(claim.value_type, "GROUPS");
        assert_eq!(claim.group_filter_type.as_deref(), Some("STARTS_WITH"));
        assert_eq!(claim.conditions.scopes, ["groups"]);
        let policy: Policy = parse("policy", fixture("policy"))?;
        assert_eq!(policy.conditions.clients.include, ["ALL_CLIENTS"]);
        let rule: Rule = parse("rule", fixture("rule"))?;
        let people = rule.conditions.people.ok_or("no people")?;
        assert_eq!(people.groups.include, ["EVERYONE"]);
        assert_eq!(rule.conditions.grant_types.include.len(), 2);
        assert_eq!(rule.actions.token.access_token_lifetime_minutes, Some(60));
        Ok(())
    }

    #[test]
    fn trusted_origin() -> TestResult {
        let o: TrustedOrigin = parse("origin", fixture("origin"))?;
        assert_eq!(o.origin, "http://example.com");
        let scopes: Vec<_> = o.scopes.iter().map(|s| s.scope_type.as_str()).collect();
        assert_eq!(scopes, ["CORS", "REDIRECT"]);
        Ok(())
    }

    #[test]
    fn wrong_types_are_reported_not_panicked() {
        let parsed = parse::<User>("user", serde_json::json!({"id": 5}));
        assert!(parsed.is_err_and(|e| e.starts_with("user: unreadable")));
    }
}
