//! The scopes each authorization server knows, and the syntax of one scope token (a `scope`
//! value is parsed into a [`crate::oauth2::types::ScopeSet`]).

/// Scopes every Gatehouse authorization server accepts (Okta's org server set; custom servers
/// ship the same system scopes).
pub const SYSTEM_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "groups",
    "device_sso",
];

/// Okta API scopes (`okta.*`) an app can be granted (`/api/v1/apps/{appId}/grants`) and then
/// request from the org server with `client_credentials`.
pub const OKTA_API_SCOPES: &[&str] = &[
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.clients.read",
    "okta.clients.manage",
    "okta.clients.register",
    "okta.authorizationServers.read",
    "okta.authorizationServers.manage",
    "okta.apiTokens.read",
    "okta.apiTokens.manage",
    "okta.policies.read",
    "okta.policies.manage",
    "okta.idps.read",
    "okta.idps.manage",
];

pub fn is_okta_api_scope(scope: &str) -> bool {
    OKTA_API_SCOPES.contains(&scope)
}

/// RFC 6749 §3.3 `scope-token`: printable ASCII except space, `"` and `\`.
pub fn is_valid_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= 255
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";

pub fn is_known(scope: &str) -> bool {
    SYSTEM_SCOPES.contains(&scope)
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn has(scopes: &[String], wanted: &str) -> bool {
    scopes.iter().any(|s| s == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_rfc_6749_scope_tokens() {
        assert!(is_valid_token("okta.users.read") && is_valid_token("a:b/c"));
        for bad in ["", "a b", "a\"b", "a\\b", "caf\u{e9}"] {
            assert!(!is_valid_token(bad), "{bad:?}");
        }
    }
}
