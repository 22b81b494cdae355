//! The org's authorization servers and their signing keys, management API tokens, trusted
//! origins.

use serde::{Deserialize, Serialize};

use super::{AppStatus, AuthServerKind, IssuerMode, KeyStatus, SigningAlg, Timestamp};

/// An authorization server: the org server (`id = "org"`, not listed by the API) or a custom one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthServer {
    pub id: String,
    pub kind: AuthServerKind,
    pub name: String,
    pub description: String,
    pub audiences: Vec<String>,
    pub issuer_mode: IssuerMode,
    pub status: AppStatus,
    /// The algorithm of new signing keys. Records stored before the field existed are RS256.
    #[serde(default)]
    pub signing_alg: SigningAlg,
    /// RFC 9207: `iss` in every authorization response, errors included, and
    /// `authorization_response_iss_parameter_supported: true` in discovery. Off (Okta's way):
    /// `iss` only on successful responses, never on error responses (mod_auth_openidc 2.4 takes
    /// an error response with `iss` for a third-party-initiated login).
    #[serde(default)]
    pub authorization_response_iss: bool,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

pub const ORG_AUTH_SERVER_ID: &str = "org";
pub const DEFAULT_AUTH_SERVER_ID: &str = "default";

/// A signing key of one authorization server. The private half is sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub auth_server_id: String,
    pub alg: String,
    pub status: KeyStatus,
    /// PKCS#8 DER of the private key, sealed by [`crate::crypto::SecretBox`].
    pub private_key_sealed: String,
    /// The public JWK as JSON text.
    pub public_jwk: String,
    pub created: Timestamp,
}

/// A management API token (`Authorization: SSWS <token>`). Only the SHA-256 of its value is
/// stored; the value is shown once, when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    /// The administrator the token acts as (`/api/v1/users/me`).
    pub user_id: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

wire_enum!(
    /// What a trusted origin is trusted for: `CORS` requests, `REDIRECT`s (sign-out and
    /// `fromURI`), or `IFRAME_EMBED` (stored and echoed; Gatehouse frames nothing for it).
    TrustedOriginScope { Cors => "CORS", Redirect => "REDIRECT", IframeEmbed => "IFRAME_EMBED" }
);

/// Okta's Trusted Origin: `scheme://host[:port]`, no path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedOrigin {
    pub id: String,
    pub name: String,
    pub origin: String,
    pub scopes: Vec<TrustedOriginScope>,
    pub status: AppStatus,
    pub created: Timestamp,
    pub created_by: Option<String>,
    pub last_updated: Timestamp,
    pub last_updated_by: Option<String>,
}

impl TrustedOrigin {
    pub fn allows(&self, scope: TrustedOriginScope) -> bool {
        self.status == AppStatus::Active && self.scopes.contains(&scope)
    }
}
