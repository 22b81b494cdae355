//! `redirect_uri` (RFC 6749 §3.1.2): the rules an app's registered URIs are held to, and the
//! exact match a request's URI must make with one of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A redirection URI: absolute, without a fragment, without control characters or spaces, at
/// most [`RedirectUri::MAX_LEN`] bytes, never a `javascript:`, `data:`, `vbscript:` or `file:`
/// URI, and with a host when it is `http(s)`. It keeps the exact text it was parsed from (the
/// parser's normal form is only used to check it): two redirect URIs are equal when their
/// bytes are, with no normalisation of case, trailing slashes, query strings or ports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

/// Why a redirect URI was refused. The messages are those the app settings answer (after the
/// field's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("must not contain control characters or spaces")]
    ControlOrSpace,
    #[error("must be at most {} characters", RedirectUri::MAX_LEN)]
    TooLong,
    #[error("'{0}' is not an absolute URI")]
    NotAbsolute(String),
    #[error("'{0}' must not contain a fragment")]
    Fragment(String),
    #[error("the scheme '{0}' is not allowed")]
    Scheme(String),
    #[error("'{0}' has no host")]
    NoHost(String),
}

impl RedirectUri {
    /// The authorize endpoint takes no longer one, so no longer one is registered.
    pub const MAX_LEN: usize = 2048;

    /// The rules, in the order the app settings have always applied them.
    pub fn parse(raw: &str) -> Result<Self, RedirectUriError> {
        // The URL parser silently drops some of these, so the text would not be what matches.
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(RedirectUriError::ControlOrSpace);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(RedirectUriError::TooLong);
        }
        let parsed =
            url::Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute(raw.to_owned()))?;
        if parsed.fragment().is_some() {
            return Err(RedirectUriError::Fragment(raw.to_owned()));
        }
        let scheme = parsed.scheme();
        if matches!(scheme, "javascript" | "data" | "vbscript" | "file") {
            return Err(RedirectUriError::Scheme(scheme.to_owned()));
        }
        if matches!(scheme, "http" | "https") && parsed.host_str().is_none_or(str::is_empty) {
            return Err(RedirectUriError::NoHost(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Byte-exact comparison with a registered (or recorded) URI.
    pub fn matches(&self, registered: &str) -> bool {
        self.0 == registered
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = RedirectUriError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> Self {
        uri.0
    }
}

impl AsRef<str> for RedirectUri {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_uris_as_written() -> Result<(), RedirectUriError> {
        for ok in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://localhost:8080/callback/",
            "com.example.app:/oauth2redirect",
            "about:blank",
            "HTTPS://App.Example/CB",
        ] {
            let uri = RedirectUri::parse(ok)?;
            assert_eq!(uri.as_str(), ok, "kept verbatim, not normalised");
        }
        Ok(())
    }

    #[test]
    fn refuses_what_app_settings_refuse() {
        use RedirectUriError as E;
        let not_absolute = |s: &str| Err(E::NotAbsolute(s.into()));
        for raw in [
            "/relative",
            "",
            "app.example/cb",
            "https://",
            "http://:80/cb",
        ] {
            assert_eq!(RedirectUri::parse(raw), not_absolute(raw), "{raw}");
        }
        for raw in ["https://a.example/cb#frag", "https://a.example/cb#"] {
            assert_eq!(RedirectUri::parse(raw), Err(E::Fragment(raw.into())));
        }
        for (raw, scheme) in [
            ("javascript:alert(1)", "javascript"),
            ("data:text/html,x", "data"),
            ("vbscript:msgbox", "vbscript"),
            ("file:///etc/passwd", "file"),
        ] {
            assert_eq!(RedirectUri::parse(raw), Err(E::Scheme(scheme.into())));
        }
        for raw in [
            "https://a.example/c b",
            " https://a.example/cb",
            "https://a.example/cb\n",
            "https://a.example/\tcb",
        ] {
            assert_eq!(RedirectUri::parse(raw), Err(E::ControlOrSpace), "{raw:?}");
        }
        let long = format!("https://a.example/{}", "x".repeat(RedirectUri::MAX_LEN));
        assert_eq!(RedirectUri::parse(&long), Err(E::TooLong));
    }

    #[test]
    fn matching_is_byte_exact() -> Result<(), RedirectUriError> {
        let uri = RedirectUri::parse("https://app.example/cb")?;
        assert!(uri.matches("https://app.example/cb"));
        for other in [
            "https://app.example/cb/",
            "https://APP.example/cb",
            "https://app.example/cb?",
            "https://app.example:443/cb",
            "http://app.example/cb",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
        Ok(())
    }

    #[test]
    fn the_error_texts_are_the_app_settings_ones() {
        let message = |raw: &str| RedirectUri::parse(raw).err().map(|e| e.to_string());
        assert_eq!(
            message("/x").as_deref(),
            Some("'/x' is not an absolute URI")
        );
        assert_eq!(
            message("https://a.example/#f").as_deref(),
            Some("'https://a.example/#f' must not contain a fragment")
        );
        assert_eq!(
            message("data:x").as_deref(),
            Some("the scheme 'data' is not allowed")
        );
        assert_eq!(
            message("a b").as_deref(),
            Some("must not contain control characters or spaces")
        );
        assert_eq!(
            RedirectUriError::TooLong.to_string(),
            format!("must be at most {} characters", RedirectUri::MAX_LEN)
        );
    }
}
