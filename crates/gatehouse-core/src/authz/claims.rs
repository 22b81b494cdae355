//! Custom claims: their values and when they go into a token.
//!
//! The expression language is deliberately tiny (a subset of Okta's): `user.<attribute>` with
//! `attribute` one of `id`, `login`, `email`, `firstName`, `lastName`, `displayName`,
//! `status`; or a string literal in double or single quotes. Anything else is refused when the
//! claim is saved. A `GROUPS` claim lists the names of the user's groups that pass its filter.

use serde_json::{Map, Value, json};

use super::model::{ClaimType, ClaimValueType, GroupFilterType, OAuthClaim, ServerConfig};
use crate::domain::{AppStatus, Group, User};

/// Claim names the server sets itself; a custom claim may not take them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "ver",
    "auth_time",
    "amr",
    "idp",
    "nonce",
    "at_hash",
    "c_hash",
    "cid",
    "uid",
    "scp",
    "acr",
    "azp",
];

/// The user attributes an expression may read.
pub const USER_ATTRIBUTES: &[&str] = &[
    "id",
    "login",
    "email",
    "firstName",
    "lastName",
    "displayName",
    "status",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    UserAttribute(String),
    Literal(String),
}

/// Parses an expression, or says why it is not one.
pub fn parse_expression(raw: &str) -> Result<Expression, String> {
    let s = raw.trim();
    for quote in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(quote) && s.ends_with(quote) {
            let inner = &s[1..s.len() - 1];
            if inner.contains(quote) {
                return Err("a string literal may not contain its own quote".into());
            }
            return Ok(Expression::Literal(inner.to_owned()));
        }
    }
    if let Some(attr) = s.strip_prefix("user.") {
        if USER_ATTRIBUTES.contains(&attr) {
            return Ok(Expression::UserAttribute(attr.to_owned()));
        }
        return Err(format!(
            "unknown user attribute '{attr}'; expected one of {}",
            USER_ATTRIBUTES.join(", ")
        ));
    }
    Err(
        "Gatehouse supports `user.<attribute>` and quoted string literals as claim expressions"
            .into(),
    )
}

fn user_attribute(user: &User, attr: &str) -> Option<String> {
    match attr {
        "id" => Some(user.id.clone()),
        "login" => Some(user.login.clone()),
        "email" => Some(user.email.clone()),
        "firstName" => Some(user.first_name.clone()),
        "lastName" => Some(user.last_name.clone()),
        "displayName" => user.display_name.clone().filter(|d| !d.is_empty()),
        "status" => Some(user.status.as_str().to_owned()),
        _ => None,
    }
}

/// Checks a group filter's operand (a `REGEX` must compile, and not be huge).
pub fn validate_group_filter(kind: GroupFilterType, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the group filter value must not be empty".into());
    }
    if kind == GroupFilterType::Regex {
        compile(value).map_err(|e| format!("invalid regular expression: {e}"))?;
    }
    Ok(())
}

/// The whole name must match, as in Okta; the `regex` crate runs in linear time.
fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
}

/// The names (sorted) of the groups that pass the filter. `STARTS_WITH` and `CONTAINS`
/// ignore case; `EQUALS` and `REGEX` do not.
pub fn group_names(kind: GroupFilterType, value: &str, groups: &[Group]) -> Vec<String> {
    let lower = value.to_lowercase();
    let regex = match kind {
        GroupFilterType::Regex => match compile(value) {
            Ok(r) => Some(r),
            Err(_) => return Vec::new(),
        },
        _ => None,
    };
    let mut names: Vec<String> = groups
        .iter()
        .map(|g| &g.name)
        .filter(|name| match kind {
            GroupFilterType::StartsWith => name.to_lowercase().starts_with(&lower),
            GroupFilterType::Contains => name.to_lowercase().contains(&lower),
            GroupFilterType::Equals => *name == value,
            GroupFilterType::Regex => regex.as_ref().is_some_and(|r| r.is_match(name)),
        })
        .cloned()
        .collect();
    // Sorted, so a token does not depend on the order the backend lists groups in.
    names.sort();
    names
}

/// The claim's value for this user, or `None` when it has none (a user attribute without a
/// user, an unset attribute).
pub fn claim_value(claim: &OAuthClaim, user: Option<&User>, groups: &[Group]) -> Option<Value> {
    match claim.value_type {
        ClaimValueType::Expression => match parse_expression(&claim.value).ok()? {
            Expression::Literal(s) => Some(json!(s)),
            Expression::UserAttribute(attr) => user_attribute(user?, &attr).map(Value::String),
        },
        ClaimValueType::Groups => {
            user?;
            let kind = claim
                .group_filter_type
                .unwrap_or(GroupFilterType::StartsWith);
            Some(json!(group_names(kind, &claim.value, groups)))
        }
    }
}

/// Whether the claim goes into a token of `claim_type` with these scopes.
fn applies(claim: &OAuthClaim, claim_type: ClaimType, scopes: &[String]) -> bool {
    claim.status == AppStatus::Active
        && claim.claim_type == claim_type
        // ID-token claims reach tokens minted with an access token only when "always".
        && (claim_type == ClaimType::Resource || claim.always_include_in_token)
        && (claim.scopes.is_empty() || claim.scopes.iter().any(|s| scopes.contains(s)))
}

/// Adds the server's custom claims of `claim_type` to a token's claims. Standard claims
/// already set are never overwritten.
pub fn add_custom_claims(
    config: &ServerConfig,
    claim_type: ClaimType,
    user: Option<&User>,
    groups: &[Group],
    scopes: &[String],
    out: &mut Map<String, Value>,
) {
    for claim in config
        .claims
        .iter()
        .filter(|c| applies(c, claim_type, scopes))
    {
        if out.contains_key(&claim.name) || RESERVED_CLAIMS.contains(&claim.name.as_str()) {
            continue;
        }
        if let Some(value) = claim_value(claim, user, groups) {
            out.insert(claim.name.clone(), value);
        }
    }
}

/// The server's ID-token (`IDENTITY`) claims in a userinfo response: all of them whose scopes
/// were granted, as Okta gives them (`alwaysIncludeInToken` is about tokens only). A claim
/// named `groups` replaces the unfiltered `groups` list; other claims already set stay.
pub fn add_userinfo_claims(
    config: &ServerConfig,
    user: &User,
    groups: &[Group],
    scopes: &[String],
    out: &mut Map<String, Value>,
) {
    for claim in config.claims.iter().filter(|c| {
        c.status == AppStatus::Active
            && c.claim_type == ClaimType::Identity
            && (c.scopes.is_empty() || c.scopes.iter().any(|s| scopes.contains(s)))
    }) {
        let taken = out.contains_key(&claim.name) && claim.name != "groups";
        if taken || RESERVED_CLAIMS.contains(&claim.name.as_str()) {
            continue;
        }
        if let Some(value) = claim_value(claim, Some(user), groups) {
            out.insert(claim.name.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GroupType;

    fn group(name: &str) -> Group {
        Group {
            id: format!("00g{name}"),
            name: name.into(),
            description: String::new(),
            group_type: GroupType::OktaGroup,
            created: 0,
            last_updated: 0,
        }
    }

    #[test]
    fn expressions() {
        assert_eq!(
            parse_expression("user.email"),
            Ok(Expression::UserAttribute("email".into()))
        );
        assert_eq!(
            parse_expression("\"x y\""),
            Ok(Expression::Literal("x y".into()))
        );
        assert_eq!(parse_expression("'a'"), Ok(Expression::Literal("a".into())));
        assert!(parse_expression("user.salary").is_err());
        assert!(parse_expression("String.len(user.email)").is_err());
        assert!(parse_expression("\"a\"b\"").is_err());
    }

    #[test]
    fn group_filters() {
        let groups = [
            group("Admins"),
            group("admin-ops"),
            group("Users"),
            group("Everyone"),
        ];
        let names = |k, v| group_names(k, v, &groups);
        assert_eq!(
            names(GroupFilterType::StartsWith, "admin"),
            ["Admins", "admin-ops"]
        );
        assert_eq!(names(GroupFilterType::Equals, "Admins"), ["Admins"]);
        assert!(names(GroupFilterType::Equals, "admins").is_empty());
        assert_eq!(
            names(GroupFilterType::Contains, "ER"),
            ["Everyone", "Users"]
        );
        assert_eq!(
            names(GroupFilterType::Regex, "[A-Z].*s"),
            ["Admins", "Users"]
        );
        assert_eq!(names(GroupFilterType::Regex, ".*").len(), 4);
        assert!(validate_group_filter(GroupFilterType::Regex, "(").is_err());
    }
}
