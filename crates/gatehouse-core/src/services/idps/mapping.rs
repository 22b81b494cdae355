//! An upstream's claims (the verified ID token, merged with its userinfo) into a Gatehouse
//! profile: the login from `policy.subject.userNameTemplate` (`idpuser.<claim>`), email and
//! names from the claim mapping, and group names from the groups claim.

use serde_json::{Map, Value};

use crate::domain::IdpSettings;

/// What the upstream says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedProfile {
    /// The upstream's `sub`: the key of the link between the person and a Gatehouse user.
    pub sub: String,
    pub login: String,
    pub email: String,
    /// The upstream vouched for the email (`email_verified` is `true`, the boolean or the
    /// string).
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
    /// Group names from the groups claim (after the IdP's filter); `None` without the claim.
    pub groups: Option<Vec<String>>,
}

/// The claim a `idpuser.<claim>` template names, or why the template is not accepted.
pub fn check_template(template: &str) -> Result<&str, String> {
    let claim = template
        .trim()
        .strip_prefix("idpuser.")
        .ok_or("must be idpuser.<claim>, e.g. idpuser.email")?;
    if claim.is_empty()
        || claim.len() > 64
        || !claim.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err("must be idpuser.<claim>, e.g. idpuser.email".into());
    }
    Ok(claim)
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The profile, or what is missing (the sign-in fails with that in the log).
pub fn map_claims(
    settings: &IdpSettings,
    claims: &Map<String, Value>,
) -> Result<FederatedProfile, String> {
    let sub = text(claims, "sub").ok_or("the upstream sent no sub")?;
    let login_claim = check_template(&settings.user_name_template)?;
    let login = text(claims, login_claim).ok_or_else(|| {
        format!("the upstream sent no '{login_claim}' (the username template's claim)")
    })?;
    if login.chars().count() > 100 || login.chars().any(char::is_control) {
        return Err("the username from the upstream is not a valid login".into());
    }
    let email = text(claims, &settings.mapping.email).unwrap_or_default();
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let groups = settings
        .groups_claim
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| claims.get(c))
        .map(|v| {
            let names: Vec<String> = match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Value::String(s) => s.split(',').map(|g| g.trim().to_owned()).collect(),
                _ => Vec::new(),
            };
            names
                .into_iter()
                .filter(|g| !g.is_empty())
                .filter(|g| settings.groups_filter.is_empty() || settings.groups_filter.contains(g))
                .collect()
        });
    Ok(FederatedProfile {
        sub,
        login,
        email,
        email_verified,
        first_name: text(claims, &settings.mapping.first_name).unwrap_or_default(),
        last_name: text(claims, &settings.mapping.last_name).unwrap_or_default(),
        groups,
    })
}
