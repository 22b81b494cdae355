//! Upstream identity providers (Okta's `/api/v1/idps`): an OpenID Connect provider people sign
//! in with, and the states of sign-ins sent to one. The configuration that has no column of
//! its own is [`IdpSettings`], stored as JSON.

use serde::{Deserialize, Serialize};

use super::Timestamp;

wire_enum!(
    /// Okta's IdP `type`: a generic OpenID Connect provider, or a preset.
    IdpType { Oidc => "OIDC", Google => "GOOGLE", Microsoft => "MICROSOFT" }
);

wire_enum!(IdpStatus { Active => "ACTIVE", Inactive => "INACTIVE" });

wire_enum!(
    /// How Gatehouse authenticates to the upstream's token endpoint.
    /// `private_key_jwt` (RFC 7523): a JWT signed with the IdP's [`IdpClientKey`];
    /// `client_secret_jwt` (OIDC Core §9): a JWT signed HS256 with the client secret.
    UpstreamAuthMethod {
        ClientSecretPost => "client_secret_post",
        ClientSecretBasic => "client_secret_basic",
        ClientSecretJwt => "client_secret_jwt",
        PrivateKeyJwt => "private_key_jwt",
    }
);

wire_enum!(ProvisioningAction { Auto => "AUTO", Disabled => "DISABLED" });

wire_enum!(
    /// `policy.provisioning.groups.action`: NONE leaves memberships alone; APPEND adds the user
    /// to the groups the claim names; SYNC also removes them from this IdP's other groups.
    GroupsAction { None => "NONE", Append => "APPEND", Sync => "SYNC" }
);

wire_enum!(AccountLinkAction { Auto => "AUTO", Disabled => "DISABLED" });

wire_enum!(
    /// `policy.subject.matchType`: which Gatehouse attribute an unknown upstream user is
    /// matched against for account linking.
    MatchType { Username => "USERNAME", Email => "EMAIL", UsernameOrEmail => "USERNAME_OR_EMAIL" }
);

/// Which claims fill the Gatehouse profile (Okta's profile mapping, reduced to the fields a
/// Gatehouse user has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimMapping {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            email: "email".into(),
            first_name: "given_name".into(),
            last_name: "family_name".into(),
        }
    }
}

/// The key Gatehouse signs its client assertions to one IdP's token endpoint with
/// (`private_key_jwt`). Generated here, never imported: the administrator registers the public
/// half upstream (or the upstream fetches it from the IdP's JWKS URI on Gatehouse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpClientKey {
    pub kid: String,
    /// The JWS `alg` (`RS256`: what every upstream accepts for client assertions).
    pub alg: String,
    /// The public JWK as JSON text.
    pub public_jwk: String,
    /// PKCS#8 DER of the private key, sealed by [`crate::crypto::SecretBox`] (context
    /// `idp-client-key:<idp id>`), so the settings JSON holds nothing usable in clear.
    pub private_key_sealed: String,
}

/// An IdP's configuration besides its name, type and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSettings {
    /// `protocol.issuer.url`: the ID token's `iss` must be exactly this.
    pub issuer: String,
    pub authorization_url: String,
    pub token_url: String,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    pub jwks_url: String,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub token_auth_method: UpstreamAuthMethod,
    /// The `private_key_jwt` key; kept when the method changes, so switching back and forth
    /// does not make the administrator register a new key upstream.
    #[serde(default)]
    pub client_key: Option<IdpClientKey>,
    /// Okta's `issuerMode`: which of the org's origins the callback URL is on.
    pub issuer_mode: super::IssuerMode,
    pub provisioning: ProvisioningAction,
    pub groups_action: GroupsAction,
    /// The claim holding the user's group names.
    #[serde(default)]
    pub groups_claim: Option<String>,
    /// When not empty, only these group names are taken from the claim.
    #[serde(default)]
    pub groups_filter: Vec<String>,
    pub account_link: AccountLinkAction,
    /// Group ids: when not empty, an existing user may be linked only if in one of them (and
    /// then also without `email_verified`, as the administrator's explicit rule).
    #[serde(default)]
    pub account_link_groups: Vec<String>,
    /// `policy.subject.userNameTemplate.template`, e.g. `idpuser.email`.
    pub user_name_template: String,
    pub match_type: MatchType,
    #[serde(default)]
    pub mapping: ClaimMapping,
    /// Email domains whose users are sent to this IdP from the sign-in page (IdP discovery).
    #[serde(default)]
    pub routing_domains: Vec<String>,
    /// Whether users from this IdP may also be given a Gatehouse password.
    #[serde(default)]
    pub allow_password: bool,
    /// Tolerated clock difference, in seconds, for the ID token's `exp`/`iat`.
    pub max_clock_skew: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idp {
    pub id: String,
    pub name: String,
    pub kind: IdpType,
    pub status: IdpStatus,
    pub settings: IdpSettings,
    /// The client secret, sealed by the secret box; `None` when there is none.
    pub client_secret_sealed: Option<String>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl Idp {
    /// The `source` recorded for the users and groups this IdP brings.
    pub fn source(&self) -> String {
        source_of(&self.id)
    }
}

/// The `user_sources.source` value of the IdP `id`.
pub fn source_of(id: &str) -> String {
    format!("idp:{id}")
}

/// A sign-in sent to an upstream, until its callback spends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpState {
    pub state_hash: String,
    pub idp_id: String,
    pub transaction_id: String,
    /// The hash of the sign-in form's CSRF token, which the browser holds as a cookie.
    pub browser_hash: String,
    pub nonce: String,
    pub code_verifier_sealed: String,
    pub redirect_uri: String,
    pub expires_at: Timestamp,
}
