//! The domain's enums, each with Okta's wire spelling (see `wire_enum!`).

use serde::{Deserialize, Serialize};

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
