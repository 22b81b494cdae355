//! The grant types Gatehouse implements, as a type that can only be built by parsing: an app,
//! a rule or a token request names a grant by string, and anything else is refused where it
//! enters.

use std::fmt;

/// A grant type Gatehouse implements. Built only by [`GrantType::parse`] (or from the
/// constants below), so a stored or requested value is always one the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    /// Tokens from the authorization endpoint; never redeemed at the token endpoint.
    Implicit,
    RefreshToken,
    ClientCredentials,
    /// RFC 8628, the device authorization grant.
    DeviceCode,
}

/// Why a grant type name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantTypeError {
    /// A grant Okta has and Gatehouse does not implement (yet).
    #[error("the grant type '{0}' is not supported")]
    Unsupported(String),
    #[error("'{0}' is not a valid grant type")]
    Unknown(String),
}

/// Grant types Okta accepts that Gatehouse does not implement.
pub const OKTA_UNIMPLEMENTED: &[&str] = &[
    "password",
    "interaction_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:openid:params:grant-type:ciba",
    "urn:okta:params:oauth:grant-type:otp",
];

pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl GrantType {
    /// Every grant type, in the order discovery lists them.
    pub const ALL: [GrantType; 5] = [
        Self::AuthorizationCode,
        Self::Implicit,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::DeviceCode,
    ];

    pub fn parse(name: &str) -> Result<Self, GrantTypeError> {
        match Self::ALL.into_iter().find(|g| g.as_str() == name) {
            Some(g) => Ok(g),
            None if OKTA_UNIMPLEMENTED.contains(&name) => {
                Err(GrantTypeError::Unsupported(name.to_owned()))
            }
            None => Err(GrantTypeError::Unknown(name.to_owned())),
        }
    }

    /// The protocol name (`grant_type` value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => DEVICE_CODE,
        }
    }

    /// Okta's console words for the grant.
    pub const fn label(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "Authorization Code",
            Self::Implicit => "Implicit",
            Self::RefreshToken => "Refresh Token",
            Self::ClientCredentials => "Client Credentials",
            Self::DeviceCode => "Device Authorization",
        }
    }

    /// Whether an access policy rule can name it (Okta's rules have no `refresh_token`: a
    /// refresh is decided as the grant that started it).
    pub const fn in_policy_rules(self) -> bool {
        !matches!(self, Self::RefreshToken)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_known_names() {
        for g in GrantType::ALL {
            assert_eq!(GrantType::parse(g.as_str()), Ok(g));
        }
        assert!(matches!(
            GrantType::parse("password"),
            Err(GrantTypeError::Unsupported(_))
        ));
        for bad in ["", "AUTHORIZATION_CODE", "authorization_code ", "nope"] {
            assert!(matches!(
                GrantType::parse(bad),
                Err(GrantTypeError::Unknown(_))
            ));
        }
    }
}
