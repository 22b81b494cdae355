//! `scope` (RFC 6749 §3.3): a space-delimited list of scope tokens.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::oauth2::scope;

/// The scopes of a request, a grant or a token: each a valid RFC 6749 `scope-token` (printable
/// ASCII but space, `"` and `\`, at most 255 bytes), each once, in the order first given.
/// Parsing skips the empty strings between repeated spaces and drops repeated scopes (as
/// Gatehouse always has, and as Okta does), and refuses the whole value at the first token that
/// is not a `scope-token`. May be empty: whether that is allowed is the caller's rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct ScopeSet(Vec<String>);

/// Why a scope value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The first token that is not an RFC 6749 `scope-token`.
    #[error("the scope '{0}' is malformed")]
    Malformed(String),
}

impl ScopeError {
    /// The offending token.
    pub fn token(&self) -> &str {
        match self {
            Self::Malformed(t) => t,
        }
    }
}

impl ScopeSet {
    /// The `scope` parameter's value.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        Self::from_tokens(raw.split(' ').filter(|s| !s.is_empty()))
    }

    /// Scopes listed one by one (a stored grant's, a server's defaults); the same rules.
    pub fn from_tokens<S: AsRef<str>>(
        tokens: impl IntoIterator<Item = S>,
    ) -> Result<Self, ScopeError> {
        let mut out: Vec<String> = Vec::new();
        for token in tokens {
            let token = token.as_ref();
            if !scope::is_valid_token(token) {
                return Err(ScopeError::Malformed(token.to_owned()));
            }
            if !out.iter().any(|o| o == token) {
                out.push(token.to_owned());
            }
        }
        Ok(Self(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Every scope here is also in `other`.
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.not_in(other).next().is_none()
    }

    /// The scopes here that `other` lacks, in order.
    pub fn not_in<'a>(&'a self, other: &'a ScopeSet) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(|s| !other.contains(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(String::as_str)
    }

    /// The scopes in order, for the code that keeps them as a list (grants, tokens, policy).
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl TryFrom<Vec<String>> for ScopeSet {
    type Error = ScopeError;
    fn try_from(tokens: Vec<String>) -> Result<Self, Self::Error> {
        Self::from_tokens(tokens)
    }
}

impl From<ScopeSet> for Vec<String> {
    fn from(set: ScopeSet) -> Self {
        set.0
    }
}

/// The space-delimited form, as a `scope` parameter or response field carries it.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(raw: &str) -> ScopeSet {
        ScopeSet::parse(raw).unwrap_or_default()
    }

    #[test]
    fn splits_on_spaces_keeping_order_once_each() {
        assert_eq!(
            ScopeSet::parse("openid profile email").map(Vec::from),
            Ok(vec!["openid".into(), "profile".into(), "email".into()])
        );
        assert_eq!(set(" openid ").as_slice(), ["openid"]);
        assert!(ScopeSet::parse("   ").is_ok_and(|s| s.is_empty()));
        assert_eq!(set("b a").to_string(), "b a");
        assert_eq!(set("a:b/c!#$%&'()*+,-.[]^_`{|}~").len(), 1);
    }

    /// Formerly `scope::parse`'s test: the same value parses to the same scopes.
    #[test]
    fn parse_dedups_and_skips_empty() {
        assert_eq!(
            set("openid  profile openid").as_slice(),
            ["openid", "profile"]
        );
        assert!(ScopeSet::parse("").is_ok_and(|s| s.is_empty()));
    }

    #[test]
    fn refuses_tokens_outside_rfc_6749_scope_token() {
        for (raw, bad) in [
            ("openid \"quoted\"", "\"quoted\""),
            ("back\\slash openid", "back\\slash"),
            ("openid\tprofile", "openid\tprofile"),
            ("openid prof\u{e9}le", "prof\u{e9}le"),
            ("nul\0", "nul\0"),
        ] {
            assert_eq!(
                ScopeSet::parse(raw),
                Err(ScopeError::Malformed(bad.into())),
                "{raw:?}"
            );
        }
        let long = "x".repeat(256);
        assert_eq!(
            ScopeSet::parse(&long).map_err(|e| e.token().len()),
            Err(256)
        );
        assert!(ScopeSet::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn contains_and_subsets() {
        let granted = set("openid profile offline_access");
        assert!(granted.contains("profile") && !granted.contains("email"));
        assert!(set("profile openid").is_subset_of(&granted));
        assert!(set("").is_subset_of(&granted));
        let wider = set("openid email phone");
        assert!(!wider.is_subset_of(&granted));
        assert_eq!(
            wider.not_in(&granted).collect::<Vec<_>>(),
            ["email", "phone"]
        );
    }

    #[test]
    fn from_tokens_applies_the_same_rules() {
        assert_eq!(
            ScopeSet::from_tokens(["a", "b", "a"]).map(Vec::from),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            ScopeSet::from_tokens(["a", "b c"]),
            Err(ScopeError::Malformed("b c".into()))
        );
    }

    #[test]
    fn deserializing_applies_the_rules() -> Result<(), serde_json::Error> {
        let s: ScopeSet = serde_json::from_str(r#"["openid","openid","email"]"#)?;
        assert_eq!(s.as_slice(), ["openid", "email"]);
        assert_eq!(serde_json::to_string(&s)?, r#"["openid","email"]"#);
        assert!(serde_json::from_str::<ScopeSet>(r#"["a b"]"#).is_err());
        Ok(())
    }
}
