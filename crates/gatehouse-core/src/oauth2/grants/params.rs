//! The token request form: what every grant shares (`grant_type`, client authentication) and
//! a bag of the rest, from which each grant reads only the parameters it declares.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

use crate::oauth2::client_auth::ClientCredentials;

/// The token request form. Unknown fields (e.g. a DPoP-related one) are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    /// Everything else; a grant sees only the names in its handler's `parameters()`.
    #[serde(flatten)]
    pub grant: GrantParams,
}

impl TokenParams {
    pub fn credentials(&self, authorization: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            basic: authorization.and_then(ClientCredentials::parse_basic),
            form_client_id: self.client_id.clone().filter(|s| !s.is_empty()),
            form_client_secret: self.client_secret.clone().filter(|s| !s.is_empty()),
            client_assertion_type: self.client_assertion_type.clone(),
            client_assertion: self.client_assertion.clone(),
        }
    }
}

/// A grant's own parameters. RFC 6749 §3.2: a parameter sent twice is malformed, so
/// deserializing refuses duplicates (as it does for the named fields above).
#[derive(Debug, Clone, Default)]
pub struct GrantParams(BTreeMap<String, String>);

impl GrantParams {
    /// The parameter as sent (possibly empty).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The parameter, when present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// The parameter, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, crate::oauth2::OAuthError> {
        self.get(name).ok_or_else(|| {
            crate::oauth2::OAuthError::InvalidRequest(format!(
                "The `{name}` parameter is required."
            ))
        })
    }

    /// Only the named parameters: what a handler is given.
    pub fn only(&self, names: &[&str]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|(k, _)| names.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for GrantParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Params;
        impl<'de> Visitor<'de> for Params {
            type Value = GrantParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("form parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GrantParams, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate field `{k}`"
                        )));
                    }
                    out.insert(k, v);
                }
                Ok(GrantParams(out))
            }
        }
        d.deserialize_map(Params)
    }
}
