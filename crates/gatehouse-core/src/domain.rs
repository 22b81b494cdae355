//! Domain records shared by the protocol engine, the storage backends and the HTTP layer.
//!
//! Timestamps are Unix seconds (UTC). Enums serialise to Okta's wire spelling.

use serde::{Deserialize, Serialize};

mod device;
mod factor;
pub mod server_model;
pub mod text;
pub use device::{DeviceAuthorization, DeviceDecision, DeviceStatus};
pub use factor::{FACTOR_TYPE_TOTP, FACTOR_TYPE_WEBAUTHN, Factor, FactorStatus, PendingSignIn};

pub type Timestamp = i64;

pub use server_model::*;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Okta's user lifecycle states.
    UserStatus {
        Staged => "STAGED",
        Provisioned => "PROVISIONED",
        Active => "ACTIVE",
        Recovery => "RECOVERY",
        PasswordExpired => "PASSWORD_EXPIRED",
        LockedOut => "LOCKED_OUT",
        Suspended => "SUSPENDED",
        Deprovisioned => "DEPROVISIONED",
    }
);

wire_enum!(GroupType { OktaGroup => "OKTA_GROUP", BuiltIn => "BUILT_IN" });

wire_enum!(AppStatus { Active => "ACTIVE", Inactive => "INACTIVE" });

wire_enum!(
    /// `settings.oauthClient.application_type`: `browser` is a single-page app.
    ApplicationType { Web => "web", Browser => "browser", Service => "service", Native => "native" }
);

wire_enum!(
    TokenEndpointAuthMethod {
        ClientSecretBasic => "client_secret_basic",
        ClientSecretPost => "client_secret_post",
        ClientSecretJwt => "client_secret_jwt",
        PrivateKeyJwt => "private_key_jwt",
        None => "none",
    }
);

wire_enum!(AuthServerKind { Org => "ORG", Custom => "CUSTOM" });

wire_enum!(IssuerMode { OrgUrl => "ORG_URL", CustomUrl => "CUSTOM_URL", Dynamic => "DYNAMIC" });

wire_enum!(KeyStatus { Active => "ACTIVE", Next => "NEXT", Expired => "EXPIRED" });

wire_enum!(
    /// The JWS algorithm an authorization server signs its ID and access tokens with (the `alg`
    /// of its active key). RS256 is what Okta uses and what its clients expect.
    SigningAlg { Rs256 => "RS256", Es256 => "ES256", EdDsa => "EdDSA" }
);

// `wire_enum!` cannot mark a variant `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for SigningAlg {
    fn default() -> Self {
        Self::Rs256
    }
}

wire_enum!(
    /// `settings.oauthClient.consent_method`: `REQUIRED` shows the consent page for the scopes
    /// that ask for it; `TRUSTED` (the Apps API's default) only when the client sends
    /// `prompt=consent`.
    ConsentMethod { Required => "REQUIRED", Trusted => "TRUSTED" }
);

// `wire_enum!` cannot mark a variant `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for ConsentMethod {
    fn default() -> Self {
        Self::Trusted
    }
}

wire_enum!(
    /// `settings.oauthClient.refresh_token.rotation_type`.
    RotationType { Rotate => "ROTATE", Static => "STATIC" }
);

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

/// A person in the directory, with Okta's base profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    /// PHC-format argon2id hash; `None` for users created without credentials.
    pub password_hash: Option<String>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
    pub activated: Option<Timestamp>,
    pub status_changed: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub password_changed: Option<Timestamp>,
}

impl User {
    /// `name` claim: the display name, or "first last".
    pub fn full_name(&self) -> String {
        match &self.display_name {
            Some(d) if !d.is_empty() => d.clone(),
            _ => format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub group_type: GroupType,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// The name of the built-in group every user belongs to.
pub const EVERYONE: &str = "Everyone";

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
}

/// Okta's app-level groups claim ("Groups claim type: Filter"): in ID tokens the org server
/// issues with the `groups` scope, the user's groups whose names pass the filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsClaim {
    /// The claim's name, usually `groups`.
    pub name: String,
    pub filter_type: server_model::GroupFilterType,
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

/// A browser sign-in session. Only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// A user's consent to one scope for one client of one authorization server (Okta's
/// `OAuth2ScopeConsentGrant` with `source: END_USER`). Unique per (user, client, issuer, scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGrant {
    /// `oag…`.
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    /// The issuer the grant is for (the server's issuer as the request saw it).
    pub issuer: String,
    /// The custom authorization server that holds the scope.
    pub auth_server_id: String,
    /// The scope object's id on that server (`scp…`): Okta's `scopeId`.
    pub scope_id: String,
    /// The scope's name when it was granted (`email`, `car:drive`).
    pub scope_name: String,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

/// An authorize request waiting for the user to sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub id: String,
    /// SHA-256 of the CSRF token bound to the sign-in form.
    pub csrf_hash: String,
    /// The validated authorize request, as JSON.
    pub request_json: String,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}

/// An authorization code. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub code_hash: String,
    /// The grant (token family) the code will start; replaying the code revokes it.
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub auth_server_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    pub session_id_hash: Option<String>,
    pub created: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// What happened when a code was redeemed.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    /// First use: the caller may issue tokens.
    Redeemed(AuthCode),
    /// The code was used before: the caller must revoke its grant.
    Replayed(AuthCode),
    NotFound,
}

/// A grant: every token issued from one authorization (a code, a client-credentials request)
/// belongs to one, so revoking it revokes them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub auth_server_id: String,
    pub scopes: Vec<String>,
    pub auth_time: Option<Timestamp>,
    pub amr: Vec<String>,
    pub created: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A refresh token. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created: Timestamp,
    /// Absolute expiry; a rotated token keeps its family's original expiry.
    pub expires_at: Timestamp,
    /// Set when this token was exchanged for a newer one.
    pub rotated_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An issued JWT access token, recorded so it can be revoked with its grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub grant_id: String,
    pub client_id: String,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
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

/// A user attribute the management API can filter and search on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserField {
    Id,
    Status,
    Login,
    Email,
    FirstName,
    LastName,
    DisplayName,
}

/// A comparison in a user filter. String comparisons on profile fields ignore case; `id` and
/// `status` compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    Eq,
    Ne,
    /// Starts with.
    Sw,
    /// Contains.
    Co,
    /// Present (non-null and non-empty).
    Pr,
}

/// A user query, as parsed from Okta's `filter`/`search`/`q` parameters
/// ([`crate::services::filter`]); each backend turns it into its own query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    Compare {
        field: UserField,
        op: FilterOp,
        /// Empty for `Pr`.
        value: String,
    },
    And(Box<UserFilter>, Box<UserFilter>),
    Or(Box<UserFilter>, Box<UserFilter>),
    Not(Box<UserFilter>),
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

// ---------------------------------------------------------------------------------------------
// System Log

/// One System Log event as stored: Okta's `LogEvent` JSON (`body`) plus the fields it is
/// queried by. Built by [`crate::services::system_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRecord {
    pub uuid: String,
    /// `published`, in Unix milliseconds.
    pub published_ms: i64,
    pub event_type: String,
    pub severity: String,
    pub outcome_result: String,
    pub actor_id: Option<String>,
    pub actor_alternate_id: Option<String>,
    pub target_ids: Vec<String>,
    /// Lower-cased text matched by `q=` keywords.
    pub search_text: String,
    pub body: String,
}

/// A stored event with its position in the log (the paging cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogEvent {
    pub seq: i64,
    pub event: LogEventRecord,
}

/// The attributes `/api/v1/logs?filter=` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogField {
    EventType,
    Severity,
    OutcomeResult,
    ActorId,
    ActorAlternateId,
    TargetId,
}

/// A parsed System Log `filter=` ([`crate::services::system_log::parse_log_filter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFilter {
    Compare {
        field: LogField,
        op: FilterOp,
        value: String,
    },
    And(Box<LogFilter>, Box<LogFilter>),
    Or(Box<LogFilter>, Box<LogFilter>),
    Not(Box<LogFilter>),
}

/// One page of the System Log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    /// `published >= since_ms`.
    pub since_ms: Option<i64>,
    /// `published < until_ms`.
    pub until_ms: Option<i64>,
    pub filter: Option<LogFilter>,
    /// Lower-cased keywords; an event matches when its text contains every one.
    pub keywords: Vec<String>,
    pub descending: bool,
    /// Events after this position, in the query's order.
    pub after_seq: Option<i64>,
    pub limit: u32,
}

/// An administrator role assigned to a user (Okta's role assignment, `SUPER_ADMIN` only for
/// now): who may use the admin console and own API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRole {
    pub id: String,
    pub user_id: String,
    /// Okta's role type, e.g. `SUPER_ADMIN`.
    pub role_type: String,
    pub created: Timestamp,
}
