//! RFC 8628 device authorizations, as stored: both codes only as SHA-256 hashes.

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user at `/activate`.
    Pending,
    Approved,
    Denied,
    /// Its tokens were issued; it cannot be redeemed again.
    Redeemed,
}

impl DeviceStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    /// An unknown stored value reads as redeemed: it can never yield tokens.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            _ => Self::Redeemed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub client_id: String,
    pub auth_server_id: String,
    pub scopes: Vec<String>,
    pub created: Timestamp,
    pub expires_at: Timestamp,
    /// Seconds the client must wait between polls (raised by each `slow_down`).
    pub interval: i64,
    pub last_polled_at: Option<Timestamp>,
    pub status: DeviceStatus,
    /// Who approved (or denied), with their sign-in's time and methods.
    pub user_id: Option<String>,
    pub auth_time: Option<Timestamp>,
    pub amr: Vec<String>,
}

/// The user's answer at `/activate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDecision {
    pub approved: bool,
    pub user_id: String,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
}
