//! Multi-factor sign-in records (issue 19): enrolled factors in Okta's vocabulary, and the
//! second step of a sign-in that waits for one.

use super::Timestamp;

/// Okta's `factorType` of a TOTP authenticator app (Google Authenticator, Okta Verify's TOTP).
pub const FACTOR_TYPE_TOTP: &str = "token:software:totp";
/// Okta's `factorType` of a WebAuthn credential (passkey, security key).
pub const FACTOR_TYPE_WEBAUTHN: &str = "webauthn";

/// Okta's factor `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorStatus {
    /// Enrolled, waiting for a first code (`lifecycle/activate`).
    PendingActivation,
    Active,
}

impl FactorStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
        }
    }

    /// An unknown stored value reads as pending: it can never satisfy a sign-in.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "ACTIVE" => Self::Active,
            _ => Self::PendingActivation,
        }
    }
}

/// One enrolled factor of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    pub id: String,
    pub user_id: String,
    /// [`FACTOR_TYPE_TOTP`] or [`FACTOR_TYPE_WEBAUTHN`].
    pub factor_type: String,
    /// `GOOGLE`, `OKTA` (TOTP) or `FIDO` (WebAuthn).
    pub provider: String,
    pub status: FactorStatus,
    /// The user's label for it ("Phone", "YubiKey").
    pub name: String,
    /// The TOTP seed sealed with the encryption key; `None` for other types.
    pub secret_sealed: Option<String>,
    /// A WebAuthn credential (JSON), owned by the WebAuthn module; `None` for other types.
    pub credential_json: Option<String>,
    /// The last TOTP time step accepted (replays of it and earlier steps are refused).
    pub last_used_step: Option<i64>,
    pub created: Timestamp,
    pub last_updated: Timestamp,
}

impl Factor {
    pub fn is_active(&self) -> bool {
        self.status == FactorStatus::Active
    }
}

/// A sign-in whose password was checked and that waits for a second factor (or, when MFA is
/// required and the user has none, for a first enrollment). Stored, so any node can finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// SHA-256 of the value handed to the browser (only the hash is stored).
    pub id_hash: String,
    pub user_id: String,
    /// SHA-256 of the sign-in form's CSRF token, which the factor form must carry again.
    pub csrf_hash: String,
    /// The authorize request's login transaction, resumed afterwards.
    pub transaction_id: Option<String>,
    /// A step-up: the hash of the password-only session whose `amr` is upgraded.
    pub session_hash: Option<String>,
    /// Where a sign-in without an authorize request (console, dashboard) goes afterwards.
    pub return_to: Option<String>,
    /// The user must enroll a factor first (MFA required, none active).
    pub enroll: bool,
    /// Set once the factor was given while the sign-in still shows something first (the
    /// recovery codes of a new enrollment): the `amr` it completes with.
    pub verified_amr: Option<Vec<String>>,
    /// Wrong codes given on this step so far.
    pub attempts: i64,
    pub created: Timestamp,
    pub expires_at: Timestamp,
}
