//! App integrations (OAuth clients): their settings, client secrets, assignments and Okta
//! API grants.

use serde::{Deserialize, Serialize};

use super::server_model::GroupFilterType;
use super::{
    AppStatus, ApplicationType, ConsentMethod, IssuerMode, RotationType, Timestamp,
    TokenEndpointAuthMethod,
};

/// Okta's `settings.oauthClient.refresh_token`: whether each use of a refresh token hands out a
/// new one, and for how many seconds (0 to 60) the one it replaced still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenPolicy {
    pub rotation_type: RotationType,
    pub leeway: i64,
}

impl RefreshTokenPolicy {
    /// Okta's bounds for `leeway`, in seconds.
    pub const LEEWAY: std::ops::RangeInclusive<i64> = 0..=60;
    pub const DEFAULT_LEEWAY: i64 = 30;

    /// Okta's default: SPAs rotate, every other kind of app keeps a static token.
    pub fn default_for(kind: ApplicationType) -> Self {
        Self {
            rotation_type: match kind {
                ApplicationType::Browser => RotationType::Rotate,
                _ => RotationType::Static,
            },
            leeway: Self::DEFAULT_LEEWAY,
        }
    }
}

/// OAuth client settings, kept as one JSON document so new Okta settings need no migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthClientSettings {
    pub application_type: ApplicationType,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub response_types: Vec<String>,
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
    /// Descriptive metadata the management API stores and echoes.
    #[serde(default)]
    pub metadata: ClientMetadata,
    /// `DISABLED`, `SPEC` or `OKTA` (Okta's `idp_initiated_login.mode`).
    #[serde(default = "default_login_mode")]
    pub login_mode: String,
    #[serde(default)]
    pub pkce_required: bool,
    #[serde(default = "default_issuer_mode")]
    pub issuer_mode: IssuerMode,
    /// The client's public keys for `private_key_jwt` (private members are stripped on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwkSet>,
    /// Where the client publishes its keys, fetched when `jwks` is absent (see `oauth2::remote_jwks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Refresh-token rotation; `None` (apps stored before it existed) means the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshTokenPolicy>,
    /// Request objects (OIDC Core §6, Registration §2): the only `request_uri`s the client may
    /// send, and the one algorithm its objects must use (`None`: any supported one, or `none`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// Checked at registration to list every redirect URI (OIDC Registration §5); kept for the
    /// client information response. Subjects are public, so it derives nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// The Sign On tab's groups claim (Okta keeps it off the public apps API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_claim: Option<GroupsClaim>,
    /// Whether users are asked to consent (apps stored before it existed are `TRUSTED`).
    #[serde(default)]
    pub consent_method: ConsentMethod,
    /// Where Gatehouse POSTs a `logout_token` when a session that signed in to the app ends
    /// (OpenID Connect Back-Channel Logout 1.0; see `services::backchannel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether the app needs `sid` in its logout tokens (it always gets one when known).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
}

/// Okta's app-level groups claim ("Groups claim type: Filter"): in ID tokens the org server
/// issues with the `groups` scope, the user's groups whose names pass the filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsClaim {
    /// The claim's name, usually `groups`.
    pub name: String,
    pub filter_type: GroupFilterType,
    pub value: String,
}

impl OAuthClientSettings {
    /// The refresh-token policy in force, defaults filled in.
    pub fn refresh_policy(&self) -> RefreshTokenPolicy {
        self.refresh_token
            .unwrap_or_else(|| RefreshTokenPolicy::default_for(self.application_type))
    }
}

/// A JSON Web Key Set holding public keys only (`{"keys":[…]}`), as validated by
/// [`crate::oauth2::client_assertion::sanitize_jwks`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Okta's descriptive client settings (`client_uri`, `logo_uri`, ...): stored and echoed by the
/// management API, never used by the protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub client_uri: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub tos_uri: Option<String>,
    /// `idp_initiated_login.default_scope`.
    #[serde(default)]
    pub default_scope: Vec<String>,
}

fn default_login_mode() -> String {
    "DISABLED".into()
}

fn default_issuer_mode() -> IssuerMode {
    IssuerMode::Dynamic
}

/// An OIDC app integration (an OAuth client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    /// Okta's app "name" (`oidc_client` for OIDC apps).
    pub name: String,
    pub label: String,
    pub status: AppStatus,
    pub client_id: String,
    pub settings: OAuthClientSettings,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl App {
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.settings.grant_types.iter().any(|g| g == grant_type)
    }
    pub fn is_public(&self) -> bool {
        self.settings.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }
}

/// One of an app's client secrets (Okta's `OAuth2ClientSecret`); an app has at most
/// [`MAX_CLIENT_SECRETS`], and any `ACTIVE` one authenticates its client. Kept apart from the
/// app's row (see `ClientSecretStore`), so adding one never races an app update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    /// `ocs` + 17 characters.
    pub id: String,
    pub app_id: String,
    /// The secret, sealed by [`crate::crypto::SecretBox`] under the app's secret context.
    pub secret_sealed: String,
    pub status: AppStatus,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// Okta lets an app hold two client secrets, so one can replace the other without downtime.
pub const MAX_CLIENT_SECRETS: u32 = 2;

/// A listing query on apps (Okta's `q` and `filter` on `/api/v1/apps`); `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppQuery {
    /// The label or the name starts with this, ignoring case.
    pub prefix: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<AppStatus>,
}

/// A group assigned to an app; `priority` orders assignments (lowest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppGroupAssignment {
    pub app_id: String,
    pub group_id: String,
    pub priority: i64,
}

/// An Okta API scope granted to an app (`/api/v1/apps/{appId}/grants`): a service app's
/// org-server `client_credentials` token may carry only granted `okta.*` scopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppGrant {
    /// `oag…`.
    pub id: String,
    pub app_id: String,
    /// `okta.users.read`, …
    pub scope_id: String,
    /// The authorization server's issuer the grant is for (the org's URL).
    pub issuer: String,
    /// `ADMIN` (granted through the API).
    pub source: String,
    /// The administrator who granted it, if known.
    pub created_by: Option<String>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}
