//! Domain records shared by the protocol engine, the storage backends and the HTTP layer.
//!
//! Timestamps are Unix seconds (UTC). Enums serialise to Okta's wire spelling.
//!
//! One file per area: `enums` (Okta's wire enums), `directory` (users, groups), `apps`,
//! `tokens` (sessions, codes, grants, tokens), `org` (authorization servers, keys, API tokens,
//! trusted origins), `system_log`, `device`, `policy` (sign-on policies), `factor` (MFA factors,
//! pending second steps), and `server_model` (custom servers' configuration);
//! every name is re-exported here, so callers write `crate::domain::User`.

pub type Timestamp = i64;

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

mod apps;
mod device;
mod directory;
mod enums;
mod factor;
mod idp;
mod org;
pub mod password_policy;
pub mod policy;
pub mod server_model;
mod system_log;
pub mod text;
mod tokens;

pub use apps::*;
pub use device::{DeviceAuthorization, DeviceDecision, DeviceStatus};
pub use directory::*;
pub use enums::*;
pub use factor::{FACTOR_TYPE_TOTP, FACTOR_TYPE_WEBAUTHN, Factor, FactorStatus, PendingSignIn};
pub use idp::*;
pub use org::*;
pub use password_policy::*;
pub use policy::*;
pub use server_model::*;
pub use system_log::*;
pub use tokens::*;
