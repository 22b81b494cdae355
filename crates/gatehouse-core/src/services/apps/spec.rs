//! What an app's creator (or replacer) may choose, and the rules on the parts that are not
//! client settings (the label), shared by creation and replacement.

use crate::domain::text::limits;
use crate::domain::*;
use crate::services::directory_rules::{DirectoryError, invalid};

/// Everything an app's creator (or replacer) may choose. `None`/empty means Okta's default
/// for the application type.
#[derive(Debug, Clone)]
pub struct OidcAppSpec {
    pub label: String,
    pub application_type: ApplicationType,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub pkce_required: Option<bool>,
    /// A chosen client id (Okta defaults it to the app id). Fixed once created.
    pub client_id: Option<String>,
    /// A chosen client secret (Okta generates one).
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub initiate_login_uri: Option<String>,
    /// `idp_initiated_login.mode`.
    pub login_mode: Option<String>,
    pub issuer_mode: Option<IssuerMode>,
    /// `TRUSTED` (the default) or `REQUIRED`.
    pub consent_method: Option<String>,
    /// `DISABLED` (the default) or `SUBDOMAIN`.
    pub wildcard_redirect: Option<String>,
    pub metadata: ClientMetadata,
    /// The client's public keys for `private_key_jwt` (private members are stripped, see
    /// [`sanitize_jwks`]).
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its keys (https only; Gatehouse does not fetch it).
    pub jwks_uri: Option<String>,
    /// The `request_uri`s the client may send (OIDC Registration §2), fetched at authorize.
    pub request_uris: Vec<String>,
    /// The one algorithm its request objects must use (`none` included); `None`: any supported.
    pub request_object_signing_alg: Option<String>,
    /// Validated by the caller (it is fetched: see `services::clients`), stored as given.
    pub sector_identifier_uri: Option<String>,
    /// Back-channel logout (OpenID Connect Back-Channel Logout 1.0 §2.2): where the app takes
    /// logout tokens (https, or http to loopback under the development setting), and whether
    /// it needs `sid` in them.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    /// `refresh_token.rotation_type` (default: ROTATE for browser apps, STATIC otherwise).
    pub refresh_rotation: Option<RotationType>,
    /// `refresh_token.leeway` in seconds, 0 to 60 (default 30).
    pub refresh_leeway: Option<i64>,
    /// The Sign On tab's groups claim: `Some(None)` removes it, `None` keeps the current one
    /// (a replace through `/api/v1/apps`, which does not carry it, as in Okta).
    pub groups_claim: Option<Option<GroupsClaim>>,
    /// Create the app ACTIVE (Okta's `activate=true`, the default) or INACTIVE.
    pub active: bool,
}

impl OidcAppSpec {
    pub fn new(label: impl Into<String>, application_type: ApplicationType) -> Self {
        Self {
            label: label.into(),
            application_type,
            token_endpoint_auth_method: None,
            pkce_required: None,
            client_id: None,
            client_secret: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            response_types: vec![],
            initiate_login_uri: None,
            login_mode: None,
            issuer_mode: None,
            consent_method: None,
            wildcard_redirect: None,
            metadata: ClientMetadata::default(),
            jwks: None,
            jwks_uri: None,
            request_uris: vec![],
            request_object_signing_alg: None,
            sector_identifier_uri: None,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            refresh_rotation: None,
            refresh_leeway: None,
            groups_claim: None,
            active: true,
        }
    }
}

pub(super) fn validate_label(label: &str) -> Result<String, DirectoryError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > limits::APP_LABEL {
        return Err(invalid(
            "label",
            format!("must be 1 to {} characters", limits::APP_LABEL),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(invalid("label", "must not contain control characters"));
    }
    Ok(label.to_owned())
}

/// Keeps the app's settings that Okta's `/api/v1/apps` body has no field for (Gatehouse sets
/// them through dynamic client registration), so a full replacement through that API does not
/// drop them.
pub fn keep_registration_only_settings(spec: &mut OidcAppSpec, app: &App) {
    let s = &app.settings;
    spec.request_uris = s.request_uris.clone();
    spec.request_object_signing_alg = s.request_object_signing_alg.clone();
    spec.sector_identifier_uri = s.sector_identifier_uri.clone();
}
