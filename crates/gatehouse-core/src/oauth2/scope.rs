//! Scope parsing and the scopes each authorization server knows.

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

/// Splits a space-delimited scope string, dropping empties and duplicates, keeping order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

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
    fn parse_dedups_and_skips_empty() {
        assert_eq!(parse("openid  profile openid"), vec!["openid", "profile"]);
        assert!(parse("").is_empty());
    }
}
