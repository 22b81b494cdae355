//! Every hash, random token and encryption format Gatehouse uses has one owner: this module.

pub mod imported_hash;
mod password;
mod random;
mod secret_box;

pub use password::{PasswordError, hash_password, verify_password};
pub use random::{access_token_jti, okta_id, random_token, sha256_b64url, time_ordered_okta_id};
pub use secret_box::{SecretBox, SecretBoxError};

/// Constant-time equality for secrets (client secrets, CSRF tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    // Length is not secret (secrets are fixed-length per kind); content comparison is.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
