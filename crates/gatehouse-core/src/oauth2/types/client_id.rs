//! `client_id` (RFC 6749 §2.2, Appendix A.1: `client-id = *VSCHAR`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A client identifier as a request may carry it: 1 to [`ClientId::MAX_LEN`] bytes of
/// printable ASCII (`%x20-7E`). Whether such a client exists is the store's answer; an id that
/// fails these rules cannot be one (apps are created with ids of `A-Z a-z 0-9 - . _ ~`), so
/// callers answer it as they answer an unknown client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

/// Why a `client_id` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    #[error("the client_id is empty")]
    Empty,
    #[error("the client_id is longer than {} bytes", ClientId::MAX_LEN)]
    TooLong,
    #[error("the client_id holds a character outside printable ASCII")]
    Malformed,
}

impl ClientId {
    /// The longest `client_id` the endpoints look up (apps' ids are at most 100 characters).
    pub const MAX_LEN: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, ClientIdError> {
        if raw.is_empty() {
            return Err(ClientIdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ClientIdError::TooLong);
        }
        if !raw.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(ClientIdError::Malformed);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ClientIdError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl AsRef<str> for ClientId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ClientId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for ClientId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_printable_ascii_up_to_the_limit() {
        for ok in ["0oa1b2c3d4e5f6g7h8i9", "my-app.v2_~", "a", "with space"] {
            assert_eq!(
                ClientId::parse(ok).map(|c| c.as_str().to_owned()),
                Ok(ok.into())
            );
        }
        let longest = "x".repeat(ClientId::MAX_LEN);
        assert!(ClientId::parse(&longest).is_ok());
    }

    #[test]
    fn refuses_empty_long_and_non_printable() {
        assert_eq!(ClientId::parse(""), Err(ClientIdError::Empty));
        let long = "x".repeat(ClientId::MAX_LEN + 1);
        assert_eq!(ClientId::parse(&long), Err(ClientIdError::TooLong));
        for bad in ["tab\there", "nul\0", "new\nline", "caf\u{e9}", "del\x7f"] {
            assert_eq!(
                ClientId::parse(bad),
                Err(ClientIdError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn deserializing_applies_the_rules() -> Result<(), serde_json::Error> {
        let id: ClientId = serde_json::from_str("\"abc123\"")?;
        assert_eq!(id.as_str(), "abc123");
        assert_eq!(serde_json::to_string(&id)?, "\"abc123\"");
        assert!(serde_json::from_str::<ClientId>("\"\"").is_err());
        Ok(())
    }
}
